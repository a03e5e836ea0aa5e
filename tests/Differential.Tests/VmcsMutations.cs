using CsCheck;
using Sim.Images.Guests;
using Sim.Vmx;
using static Sim.Differential.Tests.ProbeMutation;

namespace Sim.Differential.Tests;

/// <summary>
/// The VMCS fields the generated cases change, drawn from what the SDM's VM-entry checks cover (vol. 3, 26.2: controls
/// and host state; 26.3: guest state; 26.4: the MSR-load list), each with its value in <see cref="VmxProbeGuest"/>'s
/// baseline. Some fields take only values that fail a check, or bit flips that stay where the probe can go on: a host
/// RIP or CR3 that passed the checks would send the probe's own exit handler astray (and no check covers the host RSP,
/// so it is left alone), and the lists loaded and
/// stored at VM exit end in a VMX abort (SDM vol. 3, 28.7), which ends the run.
/// </summary>
public static class VmcsMutations
{
    // Random host CR0, CR3 and CR4 values are uniform over 64 bits (CsCheck's Gen.ULong favours small ones, which a host could run on).
    private const ulong Cr0 = 0x80000031, Cr4 = 0x2020, Cr3 = 0x1000, Efer = 0x500, Pat = 0x0007040600070406;

    // Baseline controls with the TRUE capability MSRs' default-1 settings (SDM vol. 3, A.3-A.5) and what the probe asks for.
    private const ulong Pin = 0x16 | 1 << 6, Proc = 0x04006172 | 1 << 7 | 1 << 24 | 1UL << 31, Exit = 0x36DFB | 1 << 9, Entry = 0x11FB | 1 << 9;

    private static readonly ulong[] NonCanonical = [1UL << 47, 0x0000800000000000 | VmxProbeGuest.GuestRip, 0x8000000000000000, 0xFFFF000000000000, 0x7FFF_FFFF_FFFF_F000];
    private static readonly ulong[] CanonicalEdges = [0, 0x00007FFFFFFFFFFF, 0xFFFF800000000000, 0xFFFFFFFFFFFFFFFF];

    private static Gen<ulong> Canonical(ulong baseline) => Gen.Frequency(
        (3, Gen.Int[47, 63].Select(b => baseline ^ (1UL << b))),
        (2, Gen.OneOfConst([.. NonCanonical, .. CanonicalEdges])),
        (1, Gen.ULong));

    private static Gen<ulong> Flips(ulong baseline, params int[] bits) => Gen.OneOfConst(bits).Select(b => baseline ^ (1UL << b));

    private static ProbeMutation M(VmcsField field, ulong baseline, Gen<ulong> values) => new(field.ToString(), (uint)field, 8, baseline, values);

    /// <summary>A host field whose values are chosen so that the probe's exit handler survives them: shrinking leaves them as they are.</summary>
    private static ProbeMutation Host(VmcsField field, ulong baseline, Gen<ulong> values) => new(field.ToString(), (uint)field, 8, baseline, values, ShrinkValues: false);

    private static IEnumerable<ProbeMutation> Segment(VmcsField selector, ulong sel, ulong @base, ulong limit, ulong ar)
    {
        var offset = (uint)selector - (uint)VmcsField.GuestEsSelector;
        yield return M(selector, sel, Mixed(sel, 0, 15, 16, 0, 3, 4, sel | 3, sel | 4));
        yield return M((VmcsField)((uint)VmcsField.GuestEsBase + offset), @base, Gen.Frequency((2, Mixed(@base, 0, 63, 64, 1UL << 32)), (1, Canonical(@base))));
        yield return M((VmcsField)((uint)VmcsField.GuestEsLimit + offset), limit, Mixed(limit, 0, 31, 32, 0, 0xFFF, 0xFFFFF, 0xFFFFFFFF, 0xFFFFF000));
        yield return M((VmcsField)((uint)VmcsField.GuestEsAccessRights + offset), ar,
            Mixed(ar, 0, 31, 32, 0x10000, 0, ar | 0x10000, 0xA09B, 0xC09B, 0xA093, 0x209B, 0xC0F3, 0xC097, 0xC09F, 0x8B, 0x83, 0x82, 0x89, 0x1C093));
    }

    public static readonly ProbeMutation[] All =
    [
        // VM-execution, VM-exit and VM-entry controls (26.2.1); the VMX-preemption timer stays on so that a guest that does not halt still exits.
        M(VmcsField.PinBasedVmExecutionControls, Pin, Mixed(Pin, 0, 31, 32, Pin | 8, Pin | 0x20, Pin | 0x28, Pin | 0x80).Where(v => (v & 1 << 6) != 0)),
        M(VmcsField.PrimaryProcessorBasedVmExecutionControls, Proc, Mixed(Proc, 0, 31, 32, Proc & ~(1UL << 31), Proc | 1 << 21, Proc | 1 << 22, Proc | 1 << 25, Proc | 1 << 28)),
        M(VmcsField.SecondaryProcessorBasedVmExecutionControls, 0, Mixed(0, 0, 31, 32, 2, 0x80, 0x82, 0x20, 0x22)),
        M(VmcsField.VmExitControls, Exit, Mixed(Exit, 0, 31, 32, Exit & ~(1UL << 9), Exit | 1 << 22, Exit | 1 << 19 | 1 << 21, Exit | 1 << 18 | 1 << 20)),
        M(VmcsField.VmEntryControls, Entry, Mixed(Entry, 0, 31, 32, Entry & ~(1UL << 9), Entry | 1 << 14, Entry | 1 << 15, Entry | 4, Entry | 1 << 10, Entry | 1 << 11)),
        M(VmcsField.ExceptionBitmap, 0xFFFFFFFF, Mixed(0xFFFFFFFF, 0, 31, 32, 0)),
        M(VmcsField.Cr3TargetCount, 0, Mixed(0, 0, 31, 32, 1, 4, 5, 0x100)),
        // More entries than IA32_VMX_MISC[27:25] recommends (512) is undefined behavior (SDM vol. 3, A.6): not generated.
        M(VmcsField.VmEntryMsrLoadCount, 0, Mixed(0, 0, 8, 9, 1, 2, 3, 4, 5, 0x1FF, 0x200)),
        M(VmcsField.VmEntryMsrLoadAddress, VmxProbeGuest.MsrArea, Mixed(VmxProbeGuest.MsrArea, 0, 63, 64, 0, VmxProbeGuest.MsrArea + 8, VmxProbeGuest.MsrArea | 1, 1UL << 52)),
        // No injection of type 7 (other event): Bochs stops the whole run on it (OracleDeviations.BochsPanicsOnInjectionType7).
        M(VmcsField.VmEntryInterruptionInformation, 0, Mixed(0, 0, 31, 32,
            0x80000306, 0x80000303, 0x80000b08, 0x80000308, 0x80000b0d, 0x80000b0e, 0x8000030e, 0x80000202, 0x80000203, 0x80000020, 0x80000000,
            0x80000420, 0x80000603, 0x80000100, 0x80000312, 0x80000b12, 0x80000320).Where(v => (v & 0x80000700) != 0x80000700)),
        M(VmcsField.VmEntryExceptionErrorCode, 0, Mixed(0, 0, 31, 32, 0x10000, 0xFFFF)),
        M(VmcsField.VmEntryInstructionLength, 0, Mixed(0, 0, 31, 32, 1, 15, 16)),
        M(VmcsField.EptPointer, VmxProbeGuest.Eptp, Mixed(VmxProbeGuest.Eptp, 0, 63, 64,
            0, VmxProbeGuest.Eptp & ~7UL, VmxProbeGuest.Eptp | 1, VmxProbeGuest.Eptp | 7, VmxProbeGuest.EptPml4 | 6 | 4 << 3, VmxProbeGuest.EptPml4 | 6 | 1 << 3,
            VmxProbeGuest.Eptp | 0x40, VmxProbeGuest.Eptp | 0x80, VmxProbeGuest.Eptp | 1UL << 52)),
        M(VmcsField.VirtualProcessorIdentifier, 0, Mixed(0, 0, 15, 16, 1, 0xFFFF)),

        // Host state (26.2.2-26.2.4).
        Host(VmcsField.HostCr0, Cr0, Gen.Frequency((3, Flips(Cr0, 0, 1, 2, 3, 4, 5, 16, 18, 29, 30, 31, 32, 63)), (1, Gen.ULong.Uniform))),
        Host(VmcsField.HostCr4, Cr4, Gen.Frequency((3, Flips(Cr4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 16, 17, 18, 20, 21, 22, 23, 32)), (1, Gen.ULong.Uniform))),
        Host(VmcsField.HostCr3, Cr3, Gen.Frequency((3, Flips(Cr3, 3, 4, 52, 56, 63)), (1, Gen.ULong.Uniform))),
        Host(VmcsField.HostRip, 0, Only(NonCanonical)),
        Host(VmcsField.HostCsSelector, 8, Only(0, 9, 0xA, 0xB, 0xC, 0xF)),
        Host(VmcsField.HostSsSelector, 0x10, Only(0, 0x11, 0x13, 0x14)),
        Host(VmcsField.HostDsSelector, 0x10, Only(0, 0x11, 0x13, 0x14)),
        Host(VmcsField.HostFsSelector, 0x10, Only(0, 0x12, 0x14)),
        Host(VmcsField.HostTrSelector, 0x18, Only(0, 0x19, 0x1B, 0x1C, 0x28)),
        M(VmcsField.HostFsBase, 0, Canonical(0)),
        M(VmcsField.HostGsBase, 0, Canonical(0)),
        M(VmcsField.HostTrBase, VmxProbeGuest.HostTss, Canonical(VmxProbeGuest.HostTss)),
        Host(VmcsField.HostGdtrBase, VmxProbeGuest.HostGdt, Gen.Frequency((3, Gen.Int[47, 63].Select(b => VmxProbeGuest.HostGdt ^ (1UL << b))), (1, Gen.OneOfConst(NonCanonical)))),
        M(VmcsField.HostIdtrBase, 0, Canonical(0)),
        M(VmcsField.HostIa32SysenterEsp, 0, Canonical(0)),
        M(VmcsField.HostIa32SysenterEip, 0, Canonical(0)),
        M(VmcsField.HostIa32Efer, Efer, Mixed(Efer, 0, 63, 64, 0x501, 0x400, 0x100, 0xD00, 0xD01, 0)),
        M(VmcsField.HostIa32Pat, Pat, Mixed(Pat, 0, 63, 64, 0x0707070707070707, Pat | 2, Pat | 8)),

        // Guest control registers, debug registers and MSRs (26.3.1.1).
        M(VmcsField.GuestCr0, Cr0, Mixed(Cr0, 0, 63, 64, Cr0 & ~1UL, Cr0 & ~(1UL << 31), Cr0 | 1 << 29, Cr0 | 3UL << 29, Cr0 & ~0x20UL)),
        M(VmcsField.GuestCr4, Cr4, Mixed(Cr4, 0, 31, 64, Cr4 & ~0x20UL, Cr4 | 1 << 17, Cr4 & ~0x2000UL, Cr4 | 1 << 12)),
        M(VmcsField.GuestCr3, Cr3, Gen.Frequency((3, Flips(Cr3, 0, 1, 2, 3, 4, 5, 11, 40, 46, 47, 51, 52, 63)), (1, Gen.ULong.Uniform))),
        M(VmcsField.GuestDr7, 0x400, Mixed(0x400, 0, 63, 64, 0, 1UL << 32)),
        M(VmcsField.GuestIa32Debugctl, 0, Mixed(0, 0, 63, 64, 2, 1, 0x1000)),
        M(VmcsField.GuestIa32Efer, Efer, Mixed(Efer, 0, 63, 64, 0x501, 0x400, 0x100, 0xD00, 0)),
        M(VmcsField.GuestIa32Pat, Pat, Mixed(Pat, 0, 63, 64, 0x0707070707070707, Pat | 2)),
        M(VmcsField.GuestIa32SysenterEsp, 0, Canonical(0)),
        M(VmcsField.GuestIa32SysenterEip, 0, Canonical(0)),

        // Guest segment registers and descriptor-table registers (26.3.1.2, 26.3.1.3).
        .. Segment(VmcsField.GuestCsSelector, 8, 0, 0xFFFFFFFF, 0xA09B),
        .. Segment(VmcsField.GuestSsSelector, 0x10, 0, 0xFFFFFFFF, 0xC093),
        .. Segment(VmcsField.GuestDsSelector, 0x10, 0, 0xFFFFFFFF, 0xC093),
        .. Segment(VmcsField.GuestFsSelector, 0x10, 0, 0xFFFFFFFF, 0xC093),
        .. Segment(VmcsField.GuestTrSelector, 0x18, VmxProbeGuest.HostTss, 0x67, 0x8B),
        .. Segment(VmcsField.GuestLdtrSelector, 0, 0, 0, 0x10000),
        M(VmcsField.GuestGdtrBase, VmxProbeGuest.HostGdt, Canonical(VmxProbeGuest.HostGdt)),
        M(VmcsField.GuestIdtrBase, 0, Canonical(0)),
        M(VmcsField.GuestGdtrLimit, 0x27, Mixed(0x27, 0, 31, 32, 0xFFFF, 0x10000)),
        M(VmcsField.GuestIdtrLimit, 0, Mixed(0, 0, 31, 32, 0xFFFF, 0x10000)),

        // RIP and RFLAGS (26.3.1.4); non-register state (26.3.1.5), the VMCS link pointer.
        // A random RIP is uniform (mostly beyond the checks) and is not shrunk: at a small address the guest would run whatever is there, in the probe's memory.
        new(nameof(VmcsField.GuestRip), (uint)VmcsField.GuestRip, 8, VmxProbeGuest.GuestRip, Gen.Frequency(
            (3, Gen.Int[0, 10].Select(b => VmxProbeGuest.GuestRip ^ (1UL << b))),
            (3, Gen.Int[47, 63].Select(b => VmxProbeGuest.GuestRip ^ (1UL << b))),
            (2, Gen.OneOfConst([.. NonCanonical, 1UL << 32 | VmxProbeGuest.GuestRip])),
            (1, Gen.ULong.Uniform)), ShrinkValues: false),
        M(VmcsField.GuestRflags, 2, Mixed(2, 0, 31, 64, 0, 0x202, 0x102, 0x20002, 0x10002, 0x302)),
        // Not wait-for-SIPI (3), in which nothing but a SIPI ends the guest (26.5.1), nor shutdown (2): see KnownDivergences.VmxShutdownActivity.
        M(VmcsField.GuestActivityState, 0, Only(0, 1, 4, 5, 0xFFFFFFFF)),
        M(VmcsField.GuestInterruptibilityState, 0, Mixed(0, 0, 31, 32, 1, 2, 3, 4, 8, 0x10)),
        M(VmcsField.GuestPendingDebugExceptions, 0, Mixed(0, 0, 31, 64, 0x4000, 0x1000, 1, 0x5000, 0x10000)),
        M(VmcsField.VmcsLinkPointer, ulong.MaxValue, Mixed(ulong.MaxValue, 0, 63, 64, 0, VmxProbeGuest.Vmcs, VmxProbeGuest.VmxonRegion, VmxProbeGuest.MsrArea, VmxProbeGuest.Vmcs + 8)),
    ];
}
