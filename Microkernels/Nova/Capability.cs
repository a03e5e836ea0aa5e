namespace Sim.Microkernels.Nova;

/// <summary>An object capability: a kernel object and the rights this selector holds on it.</summary>
public readonly record struct Capability(KernelObject Object, uint Rights)
{
    public bool Has(uint rights) => (Rights & rights) == rights;
}
