using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

/// <summary>
/// What a hypervisor in 64-bit guest code does to start VMX and fill a VMCS (SDM vol. 3, 24.6-24.8,
/// 25.11.5), shared by the built-in VT-x guests: the host GDT and TR, VMXON, VMCLEAR/VMPTRLD,
/// VMWRITE of constants and registers, controls adjusted by the capability MSRs, guest segments and
/// CR0/CR4 within the fixed bits. A VMfail goes to <paramref name="vmFail"/>, any other failure to
/// <paramref name="fail"/>; <see cref="EmitRoutines"/> and <see cref="EmitData"/> place what it calls and reads.
/// </summary>
internal sealed class VmxSetup(GuestCode code, Label vmFail, Label fail)
{
    // MSRs (SDM vol. 4, table 2-2; vol. 3, appendix A).
    public const int FeatureControl = 0x3A, VmxBasic = 0x480, PinControlsMsr = 0x481, ProcControlsMsr = 0x482,
        ExitControlsMsr = 0x483, EntryControlsMsr = 0x484, VmxMisc = 0x485, Cr0Fixed0 = 0x486, Cr0Fixed1 = 0x487, Cr4Fixed0 = 0x488,
        Cr4Fixed1 = 0x489, Proc2ControlsMsr = 0x48B, EptVpidCap = 0x48C, TrueControlsOffset = 0x48D - 0x481;

    // VMCS field encodings (SDM vol. 3, appendix B).
    public const uint GuestEsSelector = 0x800, GuestEsLimit = 0x4800, GuestEsAccessRights = 0x4814, GuestEsBase = 0x6806;

    // Secondary processor-based controls: enable EPT (1), unrestricted guest (7) (SDM vol. 3, table 25-7).
    public const int EnableEpt = 1, UnrestrictedGuest = 7;

    private readonly Assembler _a = code.Asm;
    private Label _adjust = code.Asm.CreateLabel(), _gdtr = code.Asm.CreateLabel(), _vmxonPointer = code.Asm.CreateLabel();

    /// <summary>A GDT at <paramref name="gdt"/> with a 64-bit code (8), a data (10H) and a 64-bit TSS descriptor (18H) for a TSS at <paramref name="tss"/>, and TR loaded: VM exits need a host TR (SDM vol. 3, 27.2.3).</summary>
    public void SetUpHostDescriptors(ulong gdt, ulong tss)
    {
        var a = _a;
        _gdtBase = gdt;
        code.ZeroPages(gdt, 2);
        a.mov(rdi, gdt);
        a.mov(rax, 0x00AF9B000000FFFFUL);
        a.mov(__qword_ptr[rdi + 8], rax);
        a.mov(rax, 0x00CF93000000FFFFUL);
        a.mov(__qword_ptr[rdi + 16], rax);
        // Available 64-bit TSS (type 9), limit 0x67.
        a.mov(rax, 0x67UL | ((tss & 0xFFFFFF) << 16) | (0x89UL << 40) | ((tss >> 24 & 0xFF) << 56));
        a.mov(__qword_ptr[rdi + 24], rax);
        a.mov(rax, tss >> 32);
        a.mov(__qword_ptr[rdi + 32], rax);
        a.lgdt(__[_gdtr]);
        // CS still holds the payload's 64-bit selector 18H; a far return reloads it from this GDT.
        var reloaded = a.CreateLabel();
        a.push(0x08);
        a.lea(rax, __[reloaded]);
        a.push(rax);
        a.AddInstruction(Instruction.Create(Code.Retfq));
        a.Label(ref reloaded);
        a.mov(eax, 0x10);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(eax, 0x18);
        a.ltr(ax);
    }

    private ulong _gdtBase;
    private ulong _vmxonRegion;

    /// <summary>
    /// CPUID.1:ECX.VMX (printing <paramref name="noVmx"/> without it), IA32_FEATURE_CONTROL, the secondary
    /// controls, EPT and unrestricted guest, CR0/CR4 within the fixed bits with CR4.VMXE, the revision
    /// identifier in the VMXON region and in each of <paramref name="vmcsRegions"/>, then VMXON.
    /// </summary>
    public void EnableVmx(string noVmx, ulong vmxonRegion, params ulong[] vmcsRegions)
    {
        var a = _a;
        _vmxonRegion = vmxonRegion;
        var haveVmx = a.CreateLabel();
        var featureControlReady = a.CreateLabel();
        var locked = a.CreateLabel();

        // CPUID.1:ECX.VMX[bit 5] (SDM vol. 3, 24.6).
        a.mov(eax, 1);
        a.cpuid();
        a.bt(ecx, 5);
        a.jc(haveVmx);
        code.Print(noVmx);
        a.jmp(fail);
        a.Label(ref haveVmx);

        // IA32_FEATURE_CONTROL: lock it with VMXON outside SMX enabled unless firmware locked it (SDM vol. 3, 24.7).
        a.mov(ecx, FeatureControl);
        a.rdmsr();
        a.test(al, 1);
        a.jnz(locked);
        a.or(eax, 5);
        a.wrmsr();
        a.jmp(featureControlReady);
        a.Label(ref locked);
        a.test(al, 4);
        a.jnz(featureControlReady);
        code.Print("VMX disabled by firmware\n");
        a.jmp(fail);
        a.Label(ref featureControlReady);

        RequireControl(ProcControlsMsr, 32 + 31, "no secondary controls\n");
        RequireControl(Proc2ControlsMsr, 32 + EnableEpt, "no EPT\n");
        RequireControl(Proc2ControlsMsr, 32 + UnrestrictedGuest, "no unrestricted guest\n");

        // CR0 and CR4 as the fixed-bit MSRs require, with CR4.VMXE (SDM vol. 3, 24.8, A.7, A.8).
        ReadMsr64(Cr0Fixed0, r8);
        ReadMsr64(Cr0Fixed1, r9);
        a.mov(rax, cr0);
        a.or(rax, r8);
        a.and(rax, r9);
        a.mov(cr0, rax);
        ReadMsr64(Cr4Fixed0, r8);
        ReadMsr64(Cr4Fixed1, r9);
        a.mov(rax, cr4);
        a.or(rax, 0x2000);
        a.or(rax, r8);
        a.and(rax, r9);
        a.mov(cr4, rax);

        // The VMCS revision identifier, IA32_VMX_BASIC bits 30:0, heads the VMXON region and each VMCS (24.2, 24.11.5).
        code.ZeroPages(vmxonRegion, 1);
        foreach (var region in vmcsRegions) code.ZeroPages(region, 1);
        a.mov(ecx, VmxBasic);
        a.rdmsr();
        a.and(eax, 0x7FFFFFFF);
        foreach (var region in vmcsRegions.Prepend(vmxonRegion))
        {
            a.mov(rdi, region);
            a.mov(__dword_ptr[rdi], eax);
        }

        a.vmxon(__qword_ptr[_vmxonPointer]);
        a.jbe(vmFail);
    }

    /// <summary>Fails with <paramref name="message"/> unless bit <paramref name="bit"/> of the 64-bit MSR is set.</summary>
    public void RequireControl(int msr, int bit, string message)
    {
        var a = _a;
        var present = a.CreateLabel();
        ReadMsr64(msr, rax);
        a.bt(rax, (byte)bit);
        a.jc(present);
        code.Print(message);
        a.jmp(fail);
        a.Label(ref present);
    }

    /// <summary>EDX:EAX of an MSR into a 64-bit register.</summary>
    public void ReadMsr64(int msr, AssemblerRegister64 into)
    {
        var a = _a;
        a.mov(ecx, msr);
        a.rdmsr();
        a.shl(rdx, 32);
        a.mov(eax, eax);
        a.or(rax, rdx);
        a.mov(into, rax);
    }

    /// <summary>VMCLEAR and VMPTRLD of the VMCS whose address the quadword at <paramref name="pointer"/> holds.</summary>
    public void LoadVmcs(Label pointer)
    {
        var a = _a;
        a.vmclear(__qword_ptr[pointer]);
        a.jbe(vmFail);
        a.vmptrld(__qword_ptr[pointer]);
        a.jbe(vmFail);
    }

    /// <summary>VMWRITE of a constant; a VMfail (CF or ZF set, SDM vol. 3, 31.2) goes to the failure report.</summary>
    public void Write(uint field, ulong value)
    {
        _a.mov(rbx, value);
        WriteRbx(field);
    }

    public void WriteRbx(uint field)
    {
        var a = _a;
        a.mov(eax, field);
        a.vmwrite(rax, rbx);
        a.jbe(vmFail);
    }

    /// <summary>
    /// R10D = the distance from a capability MSR to its TRUE_ counterpart, or 0: IA32_VMX_BASIC bit 55 says
    /// whether the TRUE_*_CTLS MSRs report the controls' default-1 settings that may be cleared (A.2).
    /// </summary>
    public void SelectTrueControls()
    {
        var a = _a;
        var noTrue = a.CreateLabel();
        a.xor(r10d, r10d);
        a.mov(ecx, VmxBasic);
        a.rdmsr();
        a.bt(edx, 55 - 32);
        a.jnc(noTrue);
        a.mov(r10d, TrueControlsOffset);
        a.Label(ref noTrue);
    }

    /// <summary>RBX = the desired controls adjusted by a capability MSR: allowed-0 settings in its low half, allowed-1 in its high half (SDM vol. 3, A.3-A.5); <paramref name="trueMsrs"/> adds R10D.</summary>
    public void Adjust(ulong desired, int msr, bool trueMsrs)
    {
        var a = _a;
        a.mov(rbx, desired);
        AdjustRbx(msr, trueMsrs);
    }

    /// <summary>RBX adjusted in place by a capability MSR.</summary>
    public void AdjustRbx(int msr, bool trueMsrs)
    {
        var a = _a;
        a.mov(ecx, msr);
        if (trueMsrs) a.add(ecx, r10d);
        a.call(_adjust);
    }

    /// <summary>A guest segment register by index (ES, CS, SS, DS, FS, GS, LDTR, TR): selector, base, limit, access rights.</summary>
    public void WriteSegment(uint index, ulong selector, ulong @base, ulong limit, ulong accessRights)
    {
        Write(GuestEsSelector + 2 * index, selector);
        Write(GuestEsBase + 2 * index, @base);
        Write(GuestEsLimit + 2 * index, limit);
        Write(GuestEsAccessRights + 2 * index, accessRights);
    }

    /// <summary>CR0 or CR4 for a guest: the wanted bits with the fixed-1 bits set and fixed-0 bits clear, except what <paramref name="exempt"/> frees.</summary>
    public void WriteGuestControlRegister(uint field, ulong wanted, int fixed0, int fixed1, ulong exempt)
    {
        var a = _a;
        ReadMsr64(fixed0, rbx);
        a.mov(rax, ~exempt);
        a.and(rbx, rax);
        a.mov(rax, wanted);
        a.or(rbx, rax);
        ReadMsr64(fixed1, rax);
        a.and(rbx, rax);
        WriteRbx(field);
    }

    public void EmitRoutines()
    {
        var a = _a;
        a.Label(ref _adjust);
        a.rdmsr();
        a.or(ebx, eax);
        a.and(ebx, edx);
        a.ret();
    }

    public void EmitData()
    {
        var a = _a;
        a.Label(ref _vmxonPointer);
        a.dq(_vmxonRegion);
        // LGDT operand: limit, then base (SDM vol. 3, 3.5.1).
        a.Label(ref _gdtr);
        a.dw((ushort)39);
        a.dq(_gdtBase);
    }
}
