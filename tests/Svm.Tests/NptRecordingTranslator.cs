using Sim.Cpu;
using Sim.Cpu.Virtualization;

namespace Sim.Svm.Tests;

/// <summary>Passes every guest-physical access on to the nested-page translator and records what the processor asked for.</summary>
internal sealed class NptRecordingTranslator(IGuestPhysicalTranslator inner) : IGuestPhysicalTranslator
{
    public List<(ulong GuestPhysical, GuestPhysicalAccess Access)> Accesses { get; } = new();

    public bool Translate(Processor cpu, ulong guestPhysical, GuestPhysicalAccess access, ulong linear, out ulong hostPhysical)
    {
        Accesses.Add((guestPhysical, access));
        return inner.Translate(cpu, guestPhysical, access, linear, out hostPhysical);
    }
}
