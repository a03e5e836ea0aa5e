using Sim.Vmx;

namespace Sim.Differential.Tests;

/// <summary>
/// Whether a VMX probe case differs only because the two CPU models report different capabilities: a control value
/// that one model's capability MSR allows and the other's does not (SDM vol. 3, 26.2.1.1 and appendix A.3-A.5), a CR0 or
/// CR4 value inside one model's fixed bits only (A.7, A.8), an event injected with instruction length 0 where only one
/// model sets IA32_VMX_MISC[30] (A.6), or an address inside one model's physical-address width only.
/// </summary>
public static class VmxCapabilityDifference
{
    private const int TrueControlsOffset = 0x48D - 0x481;

    public static bool Explains(ProbeCaseOutcome o)
    {
        foreach (var w in o.Case)
        {
            if (Allowed(w, o.SimRun) != Allowed(w, o.BochsRun)) return true;
        }
        if (o.Value((uint)VmcsField.VmEntryInterruptionInformation) is { } info && (info >> 8 & 7) is 4 or 5 or 6
            && (o.Value((uint)VmcsField.VmEntryInstructionLength) ?? 0) == 0
            && (Misc(o.SimRun) >> 30 & 1) != (Misc(o.BochsRun) >> 30 & 1)) return true;
        return false;
    }

    private static ulong Misc(ProbeOutput run) => run.Capability(0x485) ?? 0;

    private static int PhysicalAddressBits(ProbeOutput run) => (int)((run.Capability(unchecked((int)0x80000008)) ?? 36) & 0xFF);

    /// <summary>Whether one write is within the capabilities one emulator printed; true for fields that no capability governs.</summary>
    private static bool Allowed(ProbeWrite w, ProbeOutput run)
    {
        var trueControls = ((run.Capability(0x480) ?? 0) >> 55 & 1) != 0 ? TrueControlsOffset : 0;
        return (VmcsField)w.Target switch
        {
            VmcsField.PinBasedVmExecutionControls => Control(w.Value, run.Capability(0x481 + trueControls)),
            VmcsField.PrimaryProcessorBasedVmExecutionControls => Control(w.Value, run.Capability(0x482 + trueControls)),
            VmcsField.VmExitControls => Control(w.Value, run.Capability(0x483 + trueControls)),
            VmcsField.VmEntryControls => Control(w.Value, run.Capability(0x484 + trueControls)),
            VmcsField.SecondaryProcessorBasedVmExecutionControls => Control(w.Value, run.Capability(0x48B)),
            VmcsField.GuestCr0 or VmcsField.HostCr0 => Fixed(w.Value, run.Capability(0x486), run.Capability(0x487)),
            VmcsField.GuestCr4 or VmcsField.HostCr4 => Fixed(w.Value, run.Capability(0x488), run.Capability(0x489)),
            VmcsField.GuestCr3 or VmcsField.HostCr3 or VmcsField.VmEntryMsrLoadAddress or VmcsField.EptPointer or VmcsField.VmcsLinkPointer
                => (w.Value >> PhysicalAddressBits(run)) == 0,
            _ => true,
        };
    }

    private static bool Control(ulong value, ulong? capability)
    {
        if (capability is not { } c) return true;
        var allowed0 = (uint)c;
        var allowed1 = (uint)(c >> 32);
        return ((uint)value & allowed0) == allowed0 && ((uint)value & ~allowed1) == 0;
    }

    /// <summary>The fixed bits, with CR0.PE and CR0.PG exempt only under unrestricted guest, which the case may or may not enable: judged strictly.</summary>
    private static bool Fixed(ulong value, ulong? fixed0, ulong? fixed1) =>
        fixed0 is not { } f0 || fixed1 is not { } f1 || ((value & f0) == f0 && (value & ~f1) == 0);
}
