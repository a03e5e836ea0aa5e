using CsCheck;
using Sim.Images.Guests;
using static Sim.Differential.Tests.ProbeMutation;

namespace Sim.Differential.Tests;

/// <summary>
/// The VMCB fields the generated cases change (AMD APM vol. 2, appendix B), drawn from what VMRUN's consistency checks cover
/// (15.5.1: EFER, CR0, CR3, CR4, DR6, DR7, the long-mode and CS combinations, the VMRUN intercept, ASID, the IOPM and MSRPM
/// addresses, EVENTINJ; 15.25: nested paging) and from state they interact with, each with its value in
/// <see cref="SvmProbeGuest"/>'s baseline. The HLT and shutdown intercepts stay on, so that every guest ends in a #VMEXIT.
/// </summary>
public static class VmcbMutations
{
    private const ulong Cr0 = 0x80000011, Cr4 = 0x20, Cr3 = 0x1000, Efer = 0x1500, Pat = 0x0007040600070406, Misc1 = 1u << 24 | 1u << 31;

    private static readonly ulong[] NonCanonical = [1UL << 47, 0x0000800000000000 | SvmProbeGuest.GuestRip, 0x8000000000000000, 0xFFFF000000000000];

    private static ProbeMutation M(string name, uint offset, int size, ulong baseline, Gen<ulong> values, bool ShrinkValues = true) =>
        new(name, offset, size, baseline, values, ShrinkValues);

    private static IEnumerable<ProbeMutation> Segment(string name, uint offset, ushort selector, ushort attrib, uint limit)
    {
        var attribs = Mixed(attrib, 0, 15, 16, 0, 0xE9B, 0xC9B, 0x29B, 0xA93, 0xA1B, 0x89B, 0xAFB, 0xC93, 0x493, 0xCF3);
        yield return M(name + ".sel", offset, 2, selector, Mixed(selector, 0, 15, 16, 0, 3, 0x13));
        // CS keeps L or D set: in 16-bit code sim runs at the wrong RIP, where the guest can overwrite the probe (KnownDivergences.SixteenBitCodeRip).
        yield return name == "cs"
            ? M(name + ".attrib", offset + 2, 2, attrib, attribs.Where(v => (v & 0x600) != 0), ShrinkValues: false)
            : M(name + ".attrib", offset + 2, 2, attrib, attribs);
        yield return M(name + ".limit", offset + 4, 4, limit, Mixed(limit, 0, 31, 32, 0, 0xFFFF, 0xFFFFF));
        yield return M(name + ".base", offset + 8, 8, 0, Mixed(0, 0, 63, 64, 1UL << 32, 1UL << 47, 0xFFFF800000000000));
    }

    public static readonly ProbeMutation[] All =
    [
        // Control area (table B-1).
        M("intercept_cr", 0x000, 4, 0, Mixed(0, 0, 31, 32)),
        M("intercept_dr", 0x004, 4, 0, Mixed(0, 0, 31, 32)),
        // #DF stays intercepted, so that no guest reaches a triple fault: Bochs does not honour the shutdown intercept (OracleDeviations.BochsShutdownIntercept).
        M("intercept_exceptions", 0x008, 4, 0xFFFFFFFF, Mixed(0xFFFFFFFF, 0, 31, 32, 0x100).Where(v => (v & 0x100) != 0), ShrinkValues: false),
        M("intercept_misc1", 0x00C, 4, Misc1, Gen.Frequency(
            (3, Gen.Int[0, 30].Where(b => b != 24).Select(b => Misc1 ^ (1UL << b))),
            (1, Gen.OneOfConst(Misc1 | 1 << 27, Misc1 | 1 << 28, Misc1 | 3 << 27)))),
        M("intercept_misc2", 0x010, 4, 1, Mixed(1, 0, 31, 32, 0, 0x7F)),
        M("iopm_base_pa", 0x040, 8, SvmProbeGuest.Iopm, Mixed(SvmProbeGuest.Iopm, 0, 63, 64, 0, 1UL << 52, (1UL << 40) - 0x3000, (1UL << 40) - 0x1000, (1UL << 48) - 0x1000, 0xFFFFFFFFFFFFF000)),
        M("msrpm_base_pa", 0x048, 8, SvmProbeGuest.Msrpm, Mixed(SvmProbeGuest.Msrpm, 0, 63, 64, 0, 1UL << 52, (1UL << 40) - 0x2000, (1UL << 40) - 0x1000, (1UL << 48) - 0x1000, 0xFFFFFFFFFFFFF000)),
        M("guest_asid", 0x058, 4, 1, Mixed(1, 0, 31, 32, 0, 0xFFFFFFFF, 0x3F, 0x40)),
        M("tlb_control", 0x05C, 1, 0, Mixed(0, 0, 7, 8, 1, 2, 3, 4, 7, 0xFF)),
        M("v_intr", 0x060, 8, 0, Mixed(0, 0, 63, 64, 1 << 8, 1 << 24, 1 << 8 | 1 << 24, 1UL << 31)),
        M("interrupt_shadow", 0x068, 8, 0, Mixed(0, 0, 63, 64, 1, 2)),
        M("np_enable", 0x090, 8, 0, Mixed(0, 0, 63, 64, 1, 2, 4, 3)),
        M("eventinj", 0x0A8, 8, 0, Mixed(0, 0, 63, 64,
            0x80000306, 0x8000030D, 0x80000B0D, 0x80000B0E | 0x10UL << 32, 0x80000202, 0x80000203, 0x80000020, 0x80000420, 0x80000100,
            0x80000500, 0x80000600, 0x80000700, 0x80000302, 0x80000320, 0x80000B08, 0x80000303)),
        M("n_cr3", 0x0B0, 8, SvmProbeGuest.NestedPml4, Mixed(SvmProbeGuest.NestedPml4, 0, 63, 64, SvmProbeGuest.NestedPml4 | 1UL << 52, 1UL << 40, SvmProbeGuest.NestedPml4 | 0xFFF)),
        M("lbr_virtualization", 0x0B8, 8, 0, Mixed(0, 0, 63, 64, 1, 2)),

        // State save area (table B-2).
        .. Segment("cs", 0x410, SvmProbeGuest.GuestCodeSelector, 0xA9B, 0xFFFFFFFF),
        .. Segment("ss", 0x420, SvmProbeGuest.GuestDataSelector, 0xC93, 0xFFFFFFFF),
        .. Segment("ds", 0x430, SvmProbeGuest.GuestDataSelector, 0xC93, 0xFFFFFFFF),
        M("tr.attrib", 0x492, 2, 0x8B, Mixed(0x8B, 0, 15, 16, 0, 0x89, 0x83)),
        M("gdtr.limit", 0x464, 4, 0x27, Mixed(0x27, 0, 31, 32, 0, 0xFFFF, 0x10000)),
        M("idtr.limit", 0x484, 4, 0, Mixed(0, 0, 31, 32, 0xFFFF, 0x10000)),
        // The CPL field holds 0-3; what a processor makes of larger values the APM leaves open.
        M("cpl", 0x4CB, 1, 0, Only(0, 1, 2, 3)),
        M("efer", 0x4D0, 8, Efer, Mixed(Efer, 0, 63, 64, 0x500, 0x1D00, 0x1400, 0x1100, 0x1000, 0x1501, 0x3500, 0x5500, 0x9500)),
        M("cr4", 0x548, 8, Cr4, Mixed(Cr4, 0, 63, 64, 0, 0x2020, 0x4020, 0x1020, 0x40020, 0x20020)),
        // No CR3 bits 51:41 nor random CR3s: Bochs walks such tables beyond its memory and stops (OracleDeviations.BochsUncheckedGuestCr3).
        M("cr3", 0x550, 8, Cr3, Gen.OneOfConst(0, 1, 2, 3, 4, 5, 11, 40, 52, 56, 63).Select(b => Cr3 ^ (1UL << b))),
        // No CR0.PG without CR0.PE: Bochs stops the whole run on it (OracleDeviations.BochsPagingWithoutProtection).
        M("cr0", 0x558, 8, Cr0, Mixed(Cr0, 0, 63, 64, 0xA0000011, 0xE0000011, 0xC0000011, 0x00000011, 0x80010011, 0x80000031).Where(v => (v & 0x80000001) != 0x80000000), ShrinkValues: false),
        M("dr7", 0x560, 8, 0x400, Mixed(0x400, 0, 63, 64, 0, 1UL << 32)),
        M("dr6", 0x568, 8, 0xFFFF0FF0, Mixed(0xFFFF0FF0, 0, 63, 64, 0, 1UL << 32)),
        // RFLAGS.TF stays clear: Bochs' host does not survive the #VMEXIT after it (OracleDeviations.BochsGuestSingleStepLeaks).
        M("rflags", 0x570, 8, 2, Mixed(2, 0, 31, 64, 0, 0x202, 0x20002, 0x10002).Where(v => (v & 0x100) == 0), ShrinkValues: false),
        // A random RIP is uniform (mostly non-canonical) and is not shrunk: at a small address the guest would run whatever is there, in the probe's memory.
        M("rip", 0x578, 8, SvmProbeGuest.GuestRip, Gen.Frequency(
            (3, Gen.Int[0, 10].Select(b => SvmProbeGuest.GuestRip ^ (1UL << b))),
            (3, Gen.Int[47, 63].Select(b => SvmProbeGuest.GuestRip ^ (1UL << b))),
            (2, Gen.OneOfConst(NonCanonical)),
            (1, Gen.ULong.Uniform)), ShrinkValues: false),
        M("g_pat", 0x668, 8, Pat, Mixed(Pat, 0, 63, 64, 0x0707070707070707, Pat | 2, Pat | 8)),
    ];
}
