using Sim.Cpu;
using Sim.Images.Guests;

namespace Sim.Platform.Tests.Machines;

/// <summary>The machine gives every processor the virtualization unit of its vendor.</summary>
[TestClass]
public sealed class VirtualizationUnitTests
{
    private static Machine Create(CpuVendor vendor, int cpus) =>
        new(new MachineConfig { Vendor = vendor, Cpus = cpus, Console = Stream.Null });

    [TestMethod]
    public void IntelProcessorsEachHaveAVmxUnitAndAnnounceVmx()
    {
        using var machine = Create(CpuVendor.Intel, 2);
        Assert.AreEqual(2, machine.VmxUnits.Count);
        Assert.AreEqual(0, machine.SvmUnits.Count);
        for (var i = 0; i < 2; i++)
        {
            var cpu = machine.Processors[i];
            Assert.AreSame(cpu, machine.VmxUnits[i].Processor);
            Assert.AreSame(machine.VmxUnits[i], cpu.Hooks);
            cpu.Cpuid(0, 0, out _, out var ebx, out _, out _);
            Assert.AreEqual(0x756E6547u, ebx, "'Genu' of GenuineIntel");
            cpu.Cpuid(1, 0, out _, out _, out var ecx, out _);
            Assert.AreNotEqual(0u, ecx & (1u << 5), "CPUID.01H:ECX.VMX (SDM vol. 3, 24.6)");
            Assert.IsTrue(cpu.TryReadMsr(0x480, out var basic), "IA32_VMX_BASIC is readable once VMX is announced (SDM vol. 3, A.1)");
            Assert.AreNotEqual(0UL, basic & 0x7FFFFFFF, "a VMCS revision identifier");
        }
    }

    [TestMethod]
    public void AmdProcessorsEachHaveAnSvmUnitAndAnnounceSvm()
    {
        using var machine = Create(CpuVendor.Amd, 2);
        Assert.AreEqual(2, machine.SvmUnits.Count);
        Assert.AreEqual(0, machine.VmxUnits.Count);
        for (var i = 0; i < 2; i++)
        {
            var cpu = machine.Processors[i];
            Assert.AreSame(machine.SvmUnits[i], cpu.Hooks);
            cpu.Cpuid(0, 0, out _, out var ebx, out _, out _);
            Assert.AreEqual(0x68747541u, ebx, "'Auth' of AuthenticAMD");
            cpu.Cpuid(0x80000001, 0, out _, out _, out var ecx, out _);
            Assert.AreNotEqual(0u, ecx & (1u << 2), "CPUID 8000_0001h ECX.SVM (APM vol. 2, 15.4)");
            cpu.Cpuid(1, 0, out var eax1, out _, out var ecx1, out _);
            Assert.AreEqual(0u, ecx1 & (1u << 5), "no VMX on an AMD processor");
            Assert.AreEqual(0x19u, ((eax1 >> 8) & 0xF) + ((eax1 >> 20) & 0xFF), "an AMD family: base 0Fh plus extended family (APM vol. 3, CPUID Fn0000_0001_EAX)");
            Assert.IsTrue(cpu.TryWriteMsr(0xC0000080, cpu.Efer | (1UL << 12)), "EFER.SVME is writable (APM vol. 2, 15.4)");
        }
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void AHypervisorGuestGivesTheSameRunTwice(CpuVendor vendor)
    {
        (RunResult Result, string Output) RunOnce()
        {
            var console = new CapturedOutput();
            using var machine = new Machine(new MachineConfig { Vendor = vendor, Console = console, DebugConsole = Stream.Null, MaxInstructions = 10_000_000 });
            BuiltInGuest guest = vendor == CpuVendor.Intel ? new VmxHypervisorGuest() : new SvmHypervisorGuest();
            machine.Load(guest.ToBootImage());
            var result = machine.Run();
            Assert.AreEqual(guest.ExpectedOutput(), console.ToString(), "the nested guests ran to the end");
            return (result, console.ToString());
        }
        var first = RunOnce();
        var second = RunOnce();
        Assert.AreEqual(first.Result.Outcome, second.Result.Outcome);
        Assert.AreEqual(first.Result.Cycles, second.Result.Cycles, "the same exits cost the same modeled cycles");
        Assert.AreEqual(first.Result.Instructions, second.Result.Instructions);
        Assert.AreEqual(first.Output, second.Output);
    }
}
