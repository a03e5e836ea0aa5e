namespace Sim.Cpu.Virtualization;

/// <summary>
/// A VM exit as the owner of a processor receives it, the same shape for VT-x and AMD-V: the
/// exit code (VMX: the exit-reason field, bit 31 for an entry failure; SVM: EXITCODE, -1 for
/// VMEXIT_INVALID), its two information words (VMX: exit qualification and guest-physical
/// address; SVM: EXITINFO1 and EXITINFO2), the exiting instruction's length where the unit
/// reports one (VMX: the VM-exit instruction-length field; SVM: nRIP − RIP, 0 without a next RIP).
/// The owner stamps it with the processor's clock once <see cref="Processor.Run"/> has returned,
/// when the cycles of the slice's last block are counted.
/// </summary>
public readonly record struct GuestExit(GuestExitSource Source, ulong Code, ulong Info1, ulong Info2, uint InstructionLength);

/// <summary>Which unit reported a <see cref="GuestExit"/>.</summary>
public enum GuestExitSource : byte
{
    None,
    Vmx,
    Svm,
}
