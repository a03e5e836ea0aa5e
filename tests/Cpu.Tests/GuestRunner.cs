using Iced.Intel;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Cpu.Tests;

/// <summary>Assembles a guest with Iced, places it in a fresh machine of one processor and runs it.</summary>
internal sealed class GuestRunner : IDisposable
{
    public const ulong CodeAddress = 0x10000;

    public GuestRunner(ulong memory = 16 << 20)
    {
        Memory = new PhysicalMemory(memory);
        Bus = new TestBus();
        Cpu = new Processor(Memory, Bus);
        Bus.Cpu = Cpu;
    }

    public PhysicalMemory Memory { get; }
    public TestBus Bus { get; }
    public Processor Cpu { get; }

    public static byte[] Assemble(int bitness, ulong address, Action<Assembler> build)
    {
        var asm = new Assembler(bitness);
        build(asm);
        var stream = new MemoryStream();
        asm.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }

    public void Load(ulong address, byte[] code) => Memory.WriteBytes(address, code);

    /// <summary>Real mode at 0000:address.</summary>
    public void StartReal(ulong address)
    {
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x9B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x93 });
        Cpu.Rip = address;
        Cpu.Rsp = 0x8000;
    }

    /// <summary>Flat 32-bit protected mode (paging off), with a GDT at 0x1000: 0x08 code, 0x10 data.</summary>
    public void StartProtected(ulong address)
    {
        WriteFlatGdt(long64: false);
        Cpu.LoadControlState(Cr0.PE | Cr0.ET, 0, 0, 0);
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        Cpu.Rip = address;
        Cpu.Rsp = 0x80000;
    }

    /// <summary>64-bit mode with the first 1 GiB identity-mapped by 2 MiB pages (tables at 0x100000).</summary>
    public void StartLong(ulong address)
    {
        WriteFlatGdt(long64: true);
        const ulong pml4 = 0x100000, pdpt = 0x101000, pd = 0x102000;
        Memory.Write(pml4, 8, pdpt | 7);
        Memory.Write(pdpt, 8, pd | 7);
        for (ulong i = 0; i < 512; i++) Memory.Write(pd + i * 8, 8, (i << 21) | 0x87);
        Cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, pml4, Cr4.PAE, Efer.LME | Efer.LMA);
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        Cpu.Rip = address;
        Cpu.Rsp = 0x80000;
    }

    private void WriteFlatGdt(bool long64)
    {
        Memory.Write(0x1000, 8, 0);
        Memory.Write(0x1008, 8, long64 ? 0x00AF9B000000FFFFUL : 0x00CF9B000000FFFFUL);
        Memory.Write(0x1010, 8, 0x00CF93000000FFFFUL);
        Cpu.Gdtr = new DescriptorTableRegister { Base = 0x1000, Limit = 0x17 };
    }

    public StopReason Run(ulong cycles = 10_000_000) => Cpu.Run(Cpu.Cycles + cycles);

    public void Dispose()
    {
        Cpu.Dispose();
        Memory.Dispose();
    }
}
