using Sim.Fuzz.Cases;

namespace Sim.Fuzz;

/// <summary>Builds the program of a case from the case alone.</summary>
public static class CaseGenerator
{
    public static FuzzProgram Generate(FuzzCase fuzzCase, FuzzSettings settings)
    {
        var rng = fuzzCase.CreateRandom();
        return fuzzCase.Kind switch
        {
            FuzzKind.RealMode or FuzzKind.ProtectedMode16 or FuzzKind.ProtectedMode32 or FuzzKind.Virtual8086
                or FuzzKind.LongMode or FuzzKind.CompatibilityMode => ModeGuest.Generate(fuzzCase.Kind, rng, settings),
            FuzzKind.Vmx => VmxGuest.Generate(rng),
            FuzzKind.Svm => SvmGuest.Generate(rng),
            FuzzKind.Bios => BiosGuest.Generate(rng, settings),
            FuzzKind.PortIo => ModeGuest.Generate(rng.Next(3) == 0 ? FuzzKind.ProtectedMode32 : FuzzKind.LongMode, rng, settings, devices: true),
            FuzzKind.Mmio => ModeGuest.Generate(rng.Next(3) == 0 ? FuzzKind.ProtectedMode32 : FuzzKind.LongMode, rng, settings, devices: false),
            FuzzKind.Image => ImageGuest.Generate(rng, settings),
            _ => throw new ArgumentOutOfRangeException(nameof(fuzzCase), fuzzCase.Kind, "unknown fuzz case kind"),
        };
    }
}
