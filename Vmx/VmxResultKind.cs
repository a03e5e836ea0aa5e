namespace Sim.Vmx;

/// <summary>How a VMX instruction ended (SDM vol. 3, 31.2 conventions, plus faults and VM entry).</summary>
public enum VmxResultKind : byte
{
    /// <summary>VMsucceed; for VMLAUNCH/VMRESUME, the processor is now in VMX non-root operation.</summary>
    Succeed,
    /// <summary>VMfailInvalid: CF set, no current VMCS to hold an error number.</summary>
    FailInvalid,
    /// <summary>VMfailValid: ZF set, the number in the VM-instruction error field.</summary>
    FailValid,
    /// <summary>The instruction raised an exception (#UD, #GP, #PF ...) instead.</summary>
    Fault,
    /// <summary>VMLAUNCH/VMRESUME failed during or after loading guest state: exit reason 33 or 34 with bit 31, host state loaded.</summary>
    EntryFailure,
    /// <summary>The instruction ended in a VM exit: executed in non-root operation, or a VM entry whose event injection caused an exit at once.</summary>
    VmExit,
}
