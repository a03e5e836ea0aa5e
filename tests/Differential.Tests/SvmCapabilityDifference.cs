namespace Sim.Differential.Tests;

/// <summary>
/// Whether an SVM probe case differs only because the two CPU models differ: a CR4 or EFER bit that one model's CPUID reports
/// (so that VMRUN accepts it, APM vol. 2, 15.5.1: "any MBZ bit of CR4/EFER set") and the other's does not, or an address inside
/// one model's physical-address width only.
/// </summary>
public static class SvmCapabilityDifference
{
    public static bool Explains(ProbeCaseOutcome o) =>
        o.Case.Any(w => Allowed(w, o.SimRun) != Allowed(w, o.BochsRun) || (w is { Target: 0x4D0, Size: 8 } && (w.Value & LongModeSegmentLimitEnable) != 0));

    /// <summary>EFER.LMSLE (bit 13): no CPUID flag reports it, so whether VMRUN accepts it is the model's.</summary>
    private const ulong LongModeSegmentLimitEnable = 1 << 13;

    private static ulong Cpuid(ProbeOutput run, uint leaf) => run.Capability(unchecked((int)leaf)) ?? 0;

    private static bool Bit(ulong value, int bit) => (value >> bit & 1) != 0;

    /// <summary>The CR4 bits a model's CPUID supports (Intel SDM vol. 3, 2.5; APM vol. 2, 3.1.3), each by its feature flag; PCE always.</summary>
    private static ulong Cr4Supported(ProbeOutput run)
    {
        var leaf1 = Cpuid(run, 1);
        var leaf7 = Cpuid(run, 7);
        var mask = 1UL << 8;
        (int Cr4Bit, bool Supported)[] features =
        [
            (0, Bit(leaf1, 1)), (1, Bit(leaf1, 1)), (2, Bit(leaf1, 4)), (3, Bit(leaf1, 2)), (4, Bit(leaf1, 3)), (5, Bit(leaf1, 6)), (6, Bit(leaf1, 7)),
            (7, Bit(leaf1, 13)), (9, Bit(leaf1, 24)), (10, Bit(leaf1, 25)),
            (11, Bit(leaf7, 32 + 2)), (12, Bit(leaf7, 32 + 16)), (16, Bit(leaf7, 0)), (17, Bit(leaf1, 32 + 17)), (18, Bit(leaf1, 32 + 26)),
            (20, Bit(leaf7, 7)), (21, Bit(leaf7, 20)), (22, Bit(leaf7, 32 + 3)), (23, Bit(leaf7, 32 + 7)),
        ];
        foreach (var (bit, supported) in features)
            if (supported) mask |= 1UL << bit;
        return mask;
    }

    /// <summary>The EFER bits a model's CPUID supports: SCE, LME, LMA, SVME always; NXE, FFXSR, TCE by feature flag; LMSLE is left to <see cref="LongModeSegmentLimitEnable"/>.</summary>
    private static ulong EferSupported(ProbeOutput run)
    {
        var ext = Cpuid(run, 0x80000001);
        var mask = 1UL | 1 << 8 | 1 << 10 | 1 << 12;
        if (Bit(ext, 20)) mask |= 1 << 11;
        if (Bit(ext, 25)) mask |= 1 << 14;
        if (Bit(ext, 32 + 17)) mask |= 1 << 15;
        return mask;
    }

    private static int PhysicalAddressBits(ProbeOutput run) => (int)(Cpuid(run, 0x80000008) & 0xFF);

    private static bool Allowed(ProbeWrite w, ProbeOutput run) => (w.Target, w.Size) switch
    {
        (0x548, 8) => (w.Value & ~Cr4Supported(run)) == 0,
        (0x4D0, 8) => (w.Value & ~EferSupported(run) & ~LongModeSegmentLimitEnable) == 0,
        (0x040, 8) => w.Value + 0x3000 <= 1UL << PhysicalAddressBits(run),
        (0x048, 8) => w.Value + 0x2000 <= 1UL << PhysicalAddressBits(run),
        (0x0B0, 8) or (0x550, 8) => w.Value >> PhysicalAddressBits(run) == 0,
        _ => true,
    };
}
