using Iced.Intel;
using Sim.Cpu;
using Sim.Images;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Platform.Tests.Firmware;

/// <summary>IA32_FEATURE_CONTROL as firmware leaves it (SDM vol. 3, 24.7): locked with VMXON outside SMX enabled, unless configured otherwise.</summary>
[TestClass]
public sealed class FeatureControlTests
{
    private const ulong Code = 0x100000;

    private static BootImage Image(EntryState entry, byte[] code) =>
        new() { Chunks = [new MemoryChunk(Code, code)], Entry = entry, Description = "test" };

    private static IEnumerable<object[]> BootPaths() =>
    [
        ["real mode through the BIOS", new RealModeEntry(0, 0x7C00, 0x80)],
        ["protected mode", new ProtectedModeEntry((uint)Code, 0, 0)],
        ["long mode", new LongModeEntry(Code, 0, 0)],
    ];

    [TestMethod]
    [DynamicData(nameof(BootPaths))]
    public void EveryProcessorFindsItLockedWithVmxOutsideSmx(string path, EntryState entry)
    {
        using var machine = new Machine(new MachineConfig { Cpus = 3 });
        machine.Load(Image(entry, [0xF4]));
        foreach (var cpu in machine.Processors)
        {
            Assert.IsTrue(cpu.TryReadMsr(0x3A, out var value));
            Assert.AreEqual(5UL, value, $"{path}, CPU {cpu.Index}: lock (bit 0) and VMXON outside SMX (bit 2)");
            Assert.IsFalse(cpu.TryWriteMsr(0x3A, 0), "a locked IA32_FEATURE_CONTROL refuses writes (#GP)");
        }
    }

    [TestMethod]
    [DynamicData(nameof(BootPaths))]
    public void UnlockedItStaysZeroAndWritable(string path, EntryState entry)
    {
        using var machine = new Machine(new MachineConfig { Cpus = 2, FeatureControlLocked = false });
        machine.Load(Image(entry, [0xF4]));
        foreach (var cpu in machine.Processors)
        {
            Assert.IsTrue(cpu.TryReadMsr(0x3A, out var value));
            Assert.AreEqual(0UL, value, $"{path}, CPU {cpu.Index}");
            Assert.IsTrue(cpu.TryWriteMsr(0x3A, 5));
        }
    }

    [TestMethod]
    public void AnAmdMachineLeavesItAlone()
    {
        using var machine = new Machine(new MachineConfig { Vendor = CpuVendor.Amd });
        machine.Load(Image(new LongModeEntry(Code, 0, 0), [0xF4]));
        Assert.AreEqual(0UL, machine.Processors[0].FeatureControl);
    }

    [TestMethod]
    public void InitKeepsIt()
    {
        using var machine = new Machine(new MachineConfig { Cpus = 2 });
        machine.Load(Image(new LongModeEntry(Code, 0, 0), [0xF4]));
        machine.Processors[1].Init();
        Assert.AreEqual(5UL, machine.Processors[1].FeatureControl, "INIT leaves the MSRs (SDM vol. 3, 10.1.1)");
    }

    /// <summary>
    /// A 64-bit guest that sets CR0.NE and CR4.VMXE and executes VMXON on a region with the revision
    /// identifier: exit value 0 when VMXON succeeds, 0Dh from its #GP handler.
    /// </summary>
    private static byte[] VmxonGuest()
    {
        const ulong region = 0x200000, idt = 0x201000, pointer = 0x202000;
        var a = new Assembler(64);
        var handler = a.CreateLabel();
        var idtr = a.CreateLabel();
        a.mov(rsp, 0x180000);
        a.lidt(__[idtr]);
        a.mov(rax, cr0);
        a.or(eax, 0x20);
        a.mov(cr0, rax);
        a.mov(rax, cr4);
        a.or(eax, 0x2000);
        a.mov(cr4, rax);
        a.mov(ecx, 0x480);
        a.rdmsr();
        a.mov(__dword_ptr[region], eax);
        a.mov(rax, region);
        a.mov(__qword_ptr[pointer], rax);
        a.vmxon(__qword_ptr[pointer]);
        a.setbe(al);
        a.@out(0xF4, al);
        a.hlt();
        a.Label(ref handler);
        a.mov(al, 13);
        a.@out(0xF4, al);
        a.hlt();
        a.Label(ref idtr);
        a.dw(256 * 16 - 1);
        a.dq(idt);
        using var stream = new MemoryStream();
        var result = a.Assemble(new StreamCodeWriter(stream), Code, BlockEncoderOptions.ReturnNewInstructionOffsets);
        var code = stream.ToArray();
        var handlerAddress = result.GetLabelRIP(handler);

        // Gate 13: a 64-bit interrupt gate to the handler through the platform's code selector 08h.
        var gate = new byte[16];
        BitConverter.GetBytes((ushort)handlerAddress).CopyTo(gate, 0);
        BitConverter.GetBytes((ushort)0x08).CopyTo(gate, 2);
        gate[5] = 0x8E;
        BitConverter.GetBytes((ushort)(handlerAddress >> 16)).CopyTo(gate, 6);
        BitConverter.GetBytes((uint)(handlerAddress >> 32)).CopyTo(gate, 8);
        var image = new byte[idt - Code + 256 * 16];
        code.CopyTo(image, 0);
        gate.CopyTo(image, (int)(idt - Code) + 13 * 16);
        return image;
    }

    [TestMethod]
    [DataRow(true, 0)]
    [DataRow(false, 13)]
    public void VmxonSucceedsWhenLockedAndRaisesGpWhenNot(bool locked, int exitValue)
    {
        using var machine = new Machine(new MachineConfig { FeatureControlLocked = locked, MaxInstructions = 10_000 });
        machine.Load(Image(new LongModeEntry(Code, 0, 0), VmxonGuest()));
        var result = machine.Run();
        Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
        Assert.AreEqual((exitValue << 1) | 1, result.ExitCode);
    }
}
