using Sim.Cpu.Registers;
using Sim.Vmx;

namespace Sim.Microkernels.Nova;

/// <summary>
/// NOVA's VT-x exit handling (alex-ab/NOVA r10 src/ec_vmx.cpp <c>handle_vmx</c>): which exits the kernel keeps and
/// what it does with them. It takes external interrupts and host NMIs itself, switches the FPU on #NM, and emulates
/// MOV to/from CR0/CR2/CR3/CR4 and CLTS against the guest state and its shadows (<c>vmx_cr</c>); CR8 accesses and
/// a CR write that needs the PDPTE registers reloaded go to portal 28. EPT violations keep their qualification and
/// guest-physical address for the QUAL transfer. Every other exit goes to the portal of its basic reason.
/// </summary>
public sealed partial class Ec
{
    private const uint VectoringValid = 0x80000000, VectoringErrorValid = 0x800, NmiUnblocking = 0x1000;
    private const uint HostNmi = 0x202, DeviceNotAvailable = 0x307;

    /// <summary>The portal of a VMX exit, or −1 when the kernel handled it and the guest resumes.</summary>
    internal int HandleVmx(VmxUnit vmx)
    {
        var reason = (uint)Read(vmx, VmcsField.ExitReason) & 0xFF;
        switch ((VmExitReason)reason)
        {
            case VmExitReason.ExceptionOrNmi:
                return VmxException(vmx);
            case VmExitReason.ExternalInterrupt:
                // The interrupt is the kernel's; a recall it carried shows as portal 0xff (NOVA's default dst_portal).
                // NOVA's VMCS acknowledges it on exit: the vector is in the exit interruption information, and the local APIC wants its EOI.
                Registers.DstPortal = NovaExit.Recall;
                if (vmx.LastExit.InterruptionInformation is var info && (info & 0x80000000) != 0) Processor.TakeInterrupt((byte)info);
                return -1;
            case VmExitReason.ControlRegisterAccess:
                return VmxCr(vmx);
        }
        return (int)VmxStateTransfer.ExitPortal(vmx, Registers);
    }

    /// <summary><c>vmx_exception</c>: an event whose delivery the exit interrupted is re-injected; host NMIs and #NM stay in the kernel.</summary>
    private int VmxException(VmxUnit vmx)
    {
        var vectoring = (uint)Read(vmx, VmcsField.IdtVectoringInformation);
        if ((vectoring & VectoringValid) != 0)
        {
            vmx.Vmwrite((ulong)VmcsField.VmEntryInterruptionInformation, vectoring & ~NmiUnblocking);
            if ((vectoring & VectoringErrorValid) != 0) vmx.Vmwrite((ulong)VmcsField.VmEntryExceptionErrorCode, Read(vmx, VmcsField.IdtVectoringErrorCode));
            var type = (vectoring >> 8) & 7;
            if (type is >= 4 and <= 6) vmx.Vmwrite((ulong)VmcsField.VmEntryInstructionLength, Read(vmx, VmcsField.VmExitInstructionLength));
        }
        switch ((uint)Read(vmx, VmcsField.VmExitInterruptionInformation) & 0x7FF)
        {
            case HostNmi:
                return -1;
            case DeviceNotAvailable:
                VmxFpuOn(vmx);
                return -1;
        }
        Registers.DstPortal = (uint)VmExitReason.ExceptionOrNmi;
        return (int)VmExitReason.ExceptionOrNmi;
    }

    /// <summary>
    /// <c>handle_exc_nm</c> with lazy FPU switching: the guest gets the FPU, so #NM is no longer intercepted and CR0.TS
    /// is the guest's again; the faulting instruction runs anew. With eager switching (the default) #NM never exits.
    /// </summary>
    private void VmxFpuOn(VmxUnit vmx)
    {
        var cr0 = VmxStateTransfer.GetCr0(vmx, Registers);
        Registers.FpuOn = true;
        vmx.Vmwrite((ulong)VmcsField.ExceptionBitmap, NovaVmx.ExceptionBitmap(Registers));
        vmx.Vmwrite((ulong)VmcsField.Cr0GuestHostMask, NovaVmx.Cr0Mask(Registers, NovaVmx.FixCr0Set, NovaVmx.FixCr0Clr));
        VmxStateTransfer.SetCr0(vmx, Registers, cr0);
    }

    /// <summary>
    /// <c>vmx_cr</c>. NOVA has no LMSW case (its CR0 mask never makes LMSW exit with eager FPU); the model emulates it
    /// as the SDM defines LMSW, so that a lazy-FPU guest setting TS by LMSW goes on.
    /// </summary>
    private int VmxCr(VmxUnit vmx)
    {
        var qual = Read(vmx, VmcsField.ExitQualification);
        var gpr = (int)((qual >> 8) & 0xF);
        var access = (qual >> 4) & 3;
        var cr = (int)(qual & 0xF);
        switch (access)
        {
            case 0:
            {
                if (cr == 8) return ToCrPortal();
                var oldCr0 = VmxStateTransfer.GetCr0(vmx, Registers);
                var oldCr4 = VmxStateTransfer.GetCr4(vmx, Registers);
                WriteCr(vmx, cr, ReadGpr(vmx, gpr));
                if (NeedsPdpteUpdate(cr, oldCr0, oldCr4, VmxStateTransfer.GetCr0(vmx, Registers), VmxStateTransfer.GetCr4(vmx, Registers)))
                    return ToCrPortal();
                break;
            }
            case 1:
                if (cr == 8) return ToCrPortal();
                WriteGpr(vmx, gpr, ReadCr(vmx, cr));
                break;
            case 2:
                WriteCr(vmx, 0, ReadCr(vmx, 0) & ~Cr0.TS);
                break;
            default:
            {
                var cr0 = ReadCr(vmx, 0);
                var source = (qual >> 16) & 0xF;
                WriteCr(vmx, 0, (cr0 & ~0xFUL) | source | (cr0 & Cr0.PE));
                break;
            }
        }
        AdjustRip(vmx);
        return -1;
    }

    private int ToCrPortal()
    {
        Registers.DstPortal = (uint)VmExitReason.ControlRegisterAccess;
        return (int)VmExitReason.ControlRegisterAccess;
    }

    /// <summary>
    /// NOVA lets the VMM reload the PDPTE registers (SDM vol. 3A 4.4.1, vol. 3C 26.3.2.4) when, with nested paging, the
    /// guest is in protected mode with paging and PAE after a CR3 write or a change of CD, NW, PG, PAE, PGE, PSE or SMEP.
    /// </summary>
    private bool NeedsPdpteUpdate(int cr, ulong oldCr0, ulong oldCr4, ulong cr0, ulong cr4)
    {
        if (!Registers.NestedPaging) return false;
        if ((cr0 & Cr0.PE) == 0 || (cr0 & Cr0.PG) == 0 || (cr4 & Cr4.PAE) == 0) return false;
        const ulong cr0Bits = Cr0.CD | Cr0.NW | Cr0.PG, cr4Bits = Cr4.PAE | Cr4.PGE | Cr4.PSE | Cr4.SMEP;
        return cr == 3 || ((cr0 ^ oldCr0) & cr0Bits) != 0 || ((cr4 ^ oldCr4) & cr4Bits) != 0;
    }

    /// <summary><c>read_cr&lt;Vmcs&gt;</c>: CR0/CR4 as the guest sees them, CR2 from the frame, CR3 from the VMCS or the vTLB's shadow.</summary>
    private ulong ReadCr(VmxUnit vmx, int cr) => cr switch
    {
        0 => VmxStateTransfer.GetCr0(vmx, Registers),
        2 => Registers.Cr2,
        3 => Registers.NestedPaging ? Read(vmx, VmcsField.GuestCr3) : Registers.Cr3Shadow,
        _ => VmxStateTransfer.GetCr4(vmx, Registers),
    };

    /// <summary><c>write_cr&lt;Vmcs&gt;</c>.</summary>
    private void WriteCr(VmxUnit vmx, int cr, ulong value)
    {
        switch (cr)
        {
            case 0:
                VmxStateTransfer.WriteCr0(vmx, Registers, value);
                break;
            case 2:
                Registers.Cr2 = value;
                break;
            case 3:
                if (Registers.NestedPaging) vmx.Vmwrite((ulong)VmcsField.GuestCr3, value);
                else Registers.Cr3Shadow = value;
                break;
            default:
                VmxStateTransfer.SetCr4(vmx, Registers, value);
                break;
        }
    }

    /// <summary><c>vmx_read_gpr</c>: RSP lives in the VMCS, the others in the frame.</summary>
    private ulong ReadGpr(VmxUnit vmx, int gpr) => gpr == 4 ? Read(vmx, VmcsField.GuestRsp) : Registers.Gpr(gpr);

    private void WriteGpr(VmxUnit vmx, int gpr, ulong value)
    {
        if (gpr == 4) vmx.Vmwrite((ulong)VmcsField.GuestRsp, value);
        else Registers.SetGpr(gpr, value);
    }

    /// <summary><c>Vmcs::adjust_rip</c>: past the instruction, and out of any STI/MOV SS interrupt shadow.</summary>
    private static void AdjustRip(VmxUnit vmx)
    {
        vmx.Vmwrite((ulong)VmcsField.GuestRip, Read(vmx, VmcsField.GuestRip) + Read(vmx, VmcsField.VmExitInstructionLength));
        var interruptibility = Read(vmx, VmcsField.GuestInterruptibilityState);
        if ((interruptibility & 3) != 0) vmx.Vmwrite((ulong)VmcsField.GuestInterruptibilityState, interruptibility & ~3UL);
    }

    private static ulong Read(VmxUnit vmx, VmcsField field) => vmx.ReadCurrent(field);
}
