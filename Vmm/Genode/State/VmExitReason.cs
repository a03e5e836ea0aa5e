namespace Sim.Vmm.Genode;

/// <summary>
/// Exit reasons as the unified state carries them (§1.5 of the ABI notes): the raw Intel basic exit
/// reason or AMD EXITCODE, and Genode's synthetic ones. Intel and AMD values the VMM test uses are
/// disjoint, so a VMM can switch on them without knowing the vendor.
/// </summary>
public static class VmExitReason
{
    /// <summary>First exit after vCPU creation; the VMM loads the initial state (NOVA portal NUM_VMI-2).</summary>
    public const uint Startup = 0xfe;

    /// <summary>Asynchronous stop by a pause/recall request (NOVA portal NUM_VMI-1).</summary>
    public const uint Recall = 0xff;

    /// <summary>Genode's name for <see cref="Recall"/> as the VMM sees it.</summary>
    public const uint Paused = Recall;

    public const uint IntelCpuid = 0x0a;
    public const uint IntelHlt = 0x0c;
    public const uint IntelInvalidState = 0x21;
    public const uint IntelEpt = 0x30;

    public const uint AmdPf = 0x4e;
    public const uint AmdHlt = 0x78;
    public const uint AmdTripleFault = 0x7f;
    public const uint AmdRdtscp = 0x87;

    /// <summary>SVM nested page fault (EXITCODE 0x400), mapped by the backends.</summary>
    public const uint AmdNpt = 0xfc;

    /// <summary>SVM invalid state (EXITCODE -1), as NOVA maps it.</summary>
    public const uint AmdInvalid = 0xfd;
}
