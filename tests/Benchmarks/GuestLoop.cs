using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Benchmarks;

/// <summary>
/// A guest program that loops forever on a bare processor in real mode (16), flat 32-bit protected
/// mode (32) or 64-bit mode (64, identity-mapped 1 GiB in 2 MiB pages), with the x87, SSE (CR4.OSFXSR,
/// OSXMMEXCPT) and, on request, AVX state (CR4.OSXSAVE, XCR0 = 7) enabled; the set-up that every
/// MIPS workload shares. <see cref="Run"/> checks that the guest is still in its loop.
/// </summary>
public sealed class GuestLoop : IDisposable
{
    /// <summary>Where the code of a protected- or long-mode loop lies; a real-mode loop runs at CS = <see cref="Code"/> >> 4, IP 0.</summary>
    public const ulong Code = 0x10000;

    private const ulong Gdt = 0x1000;
    private const ulong Pml4 = 0x100000, Pdpt = 0x101000, PageDirectory = 0x102000;
    private const ulong StackTop = 0x80000;

    private readonly string _name;
    private readonly PhysicalMemory _memory;
    private readonly Processor _cpu;
    private readonly ulong _codeStart;
    private readonly ulong _codeEnd;
    private readonly ulong _realModeDataBase;
    private readonly bool _avx;

    /// <param name="name">What the loop is, for the message when it leaves its code.</param>
    /// <param name="bitness">16, 32 or 64.</param>
    /// <param name="code">The loop, assembled for <see cref="Code"/> (offset 0 in real mode).</param>
    /// <param name="memoryBytes">RAM size.</param>
    /// <param name="realModeDataBase">DS base of a real-mode loop.</param>
    /// <param name="avx">Whether the loop needs the AVX state enabled.</param>
    /// <param name="initialise">Writes the loop's data.</param>
    public GuestLoop(string name, int bitness, byte[] code, ulong memoryBytes, ulong realModeDataBase = 0, bool avx = false, Action<PhysicalMemory>? initialise = null)
    {
        _name = name;
        Bitness = bitness;
        _memory = new PhysicalMemory(memoryBytes);
        _cpu = new Processor(_memory, new NullBus());
        _memory.WriteBytes(Code, code);
        _codeStart = bitness == 16 ? 0 : Code;
        _codeEnd = _codeStart + (ulong)code.Length;
        _realModeDataBase = realModeDataBase;
        _avx = avx;
        initialise?.Invoke(_memory);
    }

    public int Bitness { get; }

    /// <summary>The processor, for CPUID and state checks.</summary>
    public Processor Processor => _cpu;

    private sealed class NullBus : IIoBus
    {
        public uint Read(ushort port, int size) => 0xFFFFFFFF;
        public void Write(ushort port, int size, uint value) { }
    }

    /// <summary>Puts the processor at the start of the loop in its mode.</summary>
    public void Start()
    {
        _cpu.Reset();
        if (Bitness == 16)
        {
            _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = (ushort)(Code >> 4), Base = Code, Limit = 0xFFFF, Attributes = 0x9B });
            _cpu.SetSegment(SegmentIndex.DS, new SegmentRegister { Selector = (ushort)(_realModeDataBase >> 4), Base = _realModeDataBase, Limit = 0xFFFF, Attributes = 0x93 });
            _cpu.SetSegment(SegmentIndex.SS, new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x93 });
            _cpu.Rip = 0;
            _cpu.Rsp = 0x8000;
            return;
        }
        _memory.Write(Gdt, 8, 0);
        _memory.Write(Gdt + 8, 8, Bitness == 64 ? 0x00AF9B000000FFFFUL : 0x00CF9B000000FFFFUL);
        _memory.Write(Gdt + 0x10, 8, 0x00CF93000000FFFFUL);
        _cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x17 };
        var cr0 = Cr0.PE | Cr0.ET | Cr0.MP | Cr0.NE;
        var cr4 = Cr4.OSFXSR | Cr4.OSXMMEXCPT | (_avx ? Cr4.OSXSAVE : 0);
        if (Bitness == 64)
        {
            _memory.Write(Pml4, 8, Pdpt | 7);
            _memory.Write(Pdpt, 8, PageDirectory | 7);
            for (ulong i = 0; i < 512; i++) _memory.Write(PageDirectory + i * 8, 8, (i << 21) | 0x87);
            _cpu.LoadControlState(cr0 | Cr0.PG, Pml4, cr4 | Cr4.PAE, Efer.LME);
        }
        else
        {
            _cpu.LoadControlState(cr0, 0, cr4, 0);
        }
        if (_avx) _cpu.Xcr0 = 0b111;
        _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 8, Limit = 0xFFFFFFFF, Attributes = Bitness == 64 ? 0xA09Bu : 0xC09Bu });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            _cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        _cpu.Rip = Code;
        _cpu.Rsp = StackTop;
    }

    /// <summary>Runs <paramref name="instructions"/> guest instructions (cycles are one per instruction).</summary>
    public ulong Run(ulong instructions)
    {
        var before = _cpu.InstructionsRetired;
        var stop = _cpu.Run(_cpu.Cycles + instructions);
        if (stop != StopReason.CycleLimit || _cpu.Rip < _codeStart || _cpu.Rip >= _codeEnd)
            throw new InvalidOperationException($"{_name} left its loop: {stop} at RIP {_cpu.Rip:x}");
        return _cpu.InstructionsRetired - before;
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }
}
