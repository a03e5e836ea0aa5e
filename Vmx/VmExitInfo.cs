namespace Sim.Vmx;

/// <summary>What a VM exit recorded in the VM-exit information fields (SDM vol. 3, 25.9), as host software sees it after the exit.</summary>
public readonly record struct VmExitInfo(
    uint ExitReason,
    ulong ExitQualification,
    ulong GuestLinearAddress,
    ulong GuestPhysicalAddress,
    uint InterruptionInformation,
    uint InterruptionErrorCode,
    uint IdtVectoringInformation,
    uint IdtVectoringErrorCode,
    uint InstructionLength,
    uint InstructionInformation)
{
    public VmExitReason BasicReason => (VmExitReason)(ExitReason & 0xFFFF);

    /// <summary>Bit 31: a VM-entry failure (reasons 33, 34, 41).</summary>
    public bool EntryFailure => (ExitReason & 0x80000000) != 0;
}
