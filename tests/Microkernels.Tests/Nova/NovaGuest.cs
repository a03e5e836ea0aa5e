using Iced.Intel;
using Sim.Cpu;
using Sim.Microkernels.Nova;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>Guest code at <see cref="NovaVm.GuestCode"/> and the portals the NOVA tests share.</summary>
internal static class NovaGuest
{
    public static byte[] RealMode(Action<Assembler> build) => IcedAssembly.Assemble(16, NovaVm.GuestCode, build);

    /// <summary>JMP $: where a guest waits for the test to end.</summary>
    public static void Park(Assembler a)
    {
        var self = a.CreateLabel();
        a.Label(ref self);
        a.jmp(self);
    }

    /// <summary>XOR EAX,EAX (3 bytes); CPUID (2 bytes, at 1003H); JMP back.</summary>
    public static byte[] CpuidLoop() => RealMode(a =>
    {
        var top = a.CreateLabel();
        a.Label(ref top);
        a.xor(eax, eax);
        a.cpuid();
        a.jmp(top);
    });

    /// <summary>The CPUID exit's portal: VMX basic reason 10, SVM exit code 72H.</summary>
    public static int CpuidPortal(CpuVendor vendor) => vendor == CpuVendor.Amd ? 0x72 : 0x0A;

    /// <summary>The startup portal loading the real-mode state at 0000:1000 with CPUID/HLT intercepts and unrestricted guest.</summary>
    public static (int, Mtd, Func<ulong, PortalReply>) RealModeStartup(NovaVm vm, CpuVendor vendor) =>
        (NovaKernel.PortalStartup, Mtd.None, _ =>
        {
            var svm = vendor == CpuVendor.Amd;
            vm.LoadRealModeState(NovaVm.GuestCode, svm ? 1u << 18 : 1u << 7, svm ? 1u : 1u << 7, svm);
            return PortalReply.Resume;
        });

    /// <summary>A CPUID reply: past the 2-byte instruction, the rest of the state as it is.</summary>
    public static void SkipCpuid(NovaVm vm)
    {
        vm.SetU(UtcbLayout.Rip, vm.U(UtcbLayout.Rip) + 2);
        vm.SetU(UtcbLayout.Mtd, (ulong)Mtd.RipLen);
    }
}
