using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

/// <summary>
/// What a hypervisor in 64-bit guest code does to start SVM (AMD APM vol. 2, 15.4), shared by the built-in AMD-V guests:
/// CPUID for SVM and nested paging, VM_CR.SVMDIS, EFER.SVME and VM_HSAVE_PA. Without SVM it jumps to
/// <paramref name="noSvm"/>; other failures print why and jump to <paramref name="fail"/>.
/// </summary>
internal sealed class SvmSetup(GuestCode code, Label noSvm, Label fail)
{
    private const int VmCr = unchecked((int)0xC0010114), VmCrSvmDisable = 4;

    /// <summary>CPUID Fn8000_000A EDX bit 0: nested paging (15.25.1).</summary>
    private const int NestedPagingBit = 0;

    private readonly Assembler _a = code.Asm;

    /// <summary>CPUID Fn8000_0001 ECX[2] (SVM, printing "SVM") and Fn8000_000A EDX[0] (nested paging, printing "NP"); leaves Fn8000_000A's EDX in EDX.</summary>
    public void RequireSvmAndNestedPaging()
    {
        var a = _a;
        var haveSvm = a.CreateLabel();
        var haveNp = a.CreateLabel();
        a.mov(eax, 0x80000000);
        a.cpuid();
        a.cmp(eax, 0x8000000A);
        a.jb(noSvm);
        a.mov(eax, 0x80000001);
        a.cpuid();
        a.bt(ecx, 2);
        a.jc(haveSvm);
        a.jmp(noSvm);
        a.Label(ref haveSvm);
        code.Print("SVM\n");
        a.mov(eax, 0x8000000A);
        a.cpuid();
        a.bt(edx, NestedPagingBit);
        a.jc(haveNp);
        code.Print("no nested paging\n");
        a.jmp(fail);
        a.Label(ref haveNp);
        code.Print("NP\n");
    }

    /// <summary>VM_CR.SVMDIS clear (firmware may have disabled SVM, 15.30.1), then EFER.SVME and VM_HSAVE_PA = <paramref name="hostSaveArea"/> (15.4, 15.30.4).</summary>
    public void EnableSvm(ulong hostSaveArea)
    {
        var a = _a;
        var svmEnabled = a.CreateLabel();
        a.mov(ecx, VmCr);
        a.rdmsr();
        a.bt(eax, VmCrSvmDisable);
        a.jnc(svmEnabled);
        code.Print("SVM disabled by firmware\n");
        a.jmp(fail);
        a.Label(ref svmEnabled);

        a.mov(ecx, 0xC0000080);
        a.rdmsr();
        a.bts(eax, 12);
        a.wrmsr();
        a.mov(ecx, 0xC0010117);
        a.mov(eax, (uint)hostSaveArea);
        a.xor(edx, edx);
        a.wrmsr();
    }
}
