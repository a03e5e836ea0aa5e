using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// An x87-bound guest in flat 32-bit protected mode: a loop of FLD, FADD, FMUL, FST and FSTP over an array of doubles
/// (a running polynomial), the unit of the x87 MIPS measurement.
/// </summary>
public sealed class X87Workload : IDisposable
{
    private const ulong Code = 0x10000;
    private const ulong Data = 0x20000;
    private readonly PhysicalMemory _memory = new(4 << 20);
    private readonly Processor _cpu;
    private readonly ulong _codeEnd;

    public X87Workload()
    {
        _cpu = new Processor(_memory, new NullBus());
        var a = new Assembler(32);
        var outer = a.CreateLabel();
        var loop = a.CreateLabel();
        a.fninit();
        a.Label(ref outer);
        a.mov(esi, (uint)Data);
        a.mov(ecx, 256);
        a.fldz();
        a.Label(ref loop);
        a.fld(__qword_ptr[esi]);
        a.fadd(__qword_ptr[esi + 8]);
        a.fmul(st0, st1);
        a.fst(__qword_ptr[esi + 16]);
        a.faddp(st1, st0);
        a.fld1();
        a.fdivp(st1, st0);
        a.fxch(st0, st0);
        a.add(esi, 8);
        a.dec(ecx);
        a.jnz(loop);
        a.fstp(__qword_ptr[Data + 4096]);
        a.jmp(outer);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), Code);
        var code = stream.ToArray();
        _memory.WriteBytes(Code, code);
        _codeEnd = Code + (ulong)code.Length;
        for (var i = 0; i < 300; i++) _memory.Write(Data + (ulong)i * 8, 8, (ulong)BitConverter.DoubleToInt64Bits(1.0 + i / 512.0));
    }

    private sealed class NullBus : IIoBus
    {
        public uint Read(ushort port, int size) => 0xFFFFFFFF;
        public void Write(ushort port, int size, uint value) { }
    }

    public void Start()
    {
        _cpu.Reset();
        _memory.Write(0x1000, 8, 0);
        _memory.Write(0x1008, 8, 0x00CF9B000000FFFFUL);
        _memory.Write(0x1010, 8, 0x00CF93000000FFFFUL);
        _cpu.Gdtr = new DescriptorTableRegister { Base = 0x1000, Limit = 0x17 };
        _cpu.LoadControlState(Cr0.PE | Cr0.ET | Cr0.NE, 0, 0, 0);
        _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 8, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            _cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        _cpu.Rip = Code;
        _cpu.Rsp = 0x80000;
    }

    public ulong Run(ulong instructions)
    {
        var before = _cpu.InstructionsRetired;
        var stop = _cpu.Run(_cpu.Cycles + instructions);
        if (stop != StopReason.CycleLimit || _cpu.Rip < Code || _cpu.Rip >= _codeEnd)
            throw new InvalidOperationException($"x87 workload left its loop: {stop} at RIP {_cpu.Rip:x}");
        return _cpu.InstructionsRetired - before;
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }
}
