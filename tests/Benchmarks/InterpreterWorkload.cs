using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// A CPU-bound guest (a byte-array sieve, a checksum loop and calls) on a bare processor, in real
/// mode (16), flat 32-bit protected mode (32) or 64-bit mode (64); the unit of the interpreter benchmarks.
/// </summary>
public sealed class InterpreterWorkload : IDisposable
{
    private const ulong Code = 0x10000;
    private const ulong Array = 0x20000;
    private readonly PhysicalMemory _memory = new(32 << 20);
    private readonly Processor _cpu;
    private readonly NullBus _bus = new();

    public InterpreterWorkload(int bitness)
    {
        Bitness = bitness;
        _cpu = new Processor(_memory, _bus);
        var code = Assemble(bitness);
        _memory.WriteBytes(Code, code);
        _codeStart = bitness == 16 ? 0 : Code;
        _codeEnd = _codeStart + (ulong)code.Length;
    }

    public int Bitness { get; }

    private readonly ulong _codeStart;
    private readonly ulong _codeEnd;

    private sealed class NullBus : IIoBus
    {
        public uint Read(ushort port, int size) => 0xFFFFFFFF;
        public void Write(ushort port, int size, uint value) { }
    }

    private static byte[] Assemble(int bitness)
    {
        var a = new Assembler(bitness);
        var outer = a.CreateLabel();
        var clear = a.CreateLabel();
        var sieve = a.CreateLabel();
        var mark = a.CreateLabel();
        var next = a.CreateLabel();
        var sum = a.CreateLabel();
        var mix = a.CreateLabel();
        var top = a.CreateLabel();
        if (bitness == 16)
        {
            // Real mode: the code at 1000:0000, a 32 KiB array at 2000:0000 addressed through BX and SI.
            a.Label(ref top);
            a.mov(cx, 32768);
            a.Label(ref clear);
            a.mov(bx, cx);
            a.mov(__byte_ptr[bx - 1], 1);
            a.dec(cx);
            a.jnz(clear);
            a.mov(bx, 2);
            a.Label(ref sieve);
            a.cmp(__byte_ptr[bx], 0);
            a.je(next);
            a.mov(ax, bx);
            a.imul(ax, bx);
            a.Label(ref mark);
            a.cmp(ax, 32768);
            a.jae(next);
            a.mov(si, ax);
            a.mov(__byte_ptr[si], 0);
            a.add(ax, bx);
            a.jmp(mark);
            a.Label(ref next);
            a.inc(bx);
            a.cmp(bx, 181);
            a.jb(sieve);
            a.xor(dx, dx);
            a.mov(cx, 32768);
            a.Label(ref sum);
            a.mov(bx, cx);
            a.movzx(ax, __byte_ptr[bx - 1]);
            a.call(mix);
            a.dec(cx);
            a.jnz(sum);
            a.jmp(top);
            a.Label(ref mix);
            a.imul(dx, dx, 31);
            a.add(dx, ax);
            a.ret();
        }
        else
        {
            // The same program in 32- and 64-bit code; only the width of the address registers differs.
            AssemblerMemoryOperand Element(AssemblerRegister32 index32, AssemblerRegister64 index64, int displacement) =>
                bitness == 64 ? __byte_ptr[rdi + index64 + displacement] : __byte_ptr[edi + index32 + displacement];
            a.Label(ref top);
            a.mov(edi, (uint)Array);
            a.mov(ecx, 65536);
            a.Label(ref clear);
            a.mov(Element(ecx, rcx, -1), 1);
            a.dec(ecx);
            a.jnz(clear);
            a.mov(ebx, 2);
            a.Label(ref sieve);
            a.cmp(Element(ebx, rbx, 0), 0);
            a.je(next);
            a.mov(eax, ebx);
            a.imul(eax, ebx);
            a.Label(ref mark);
            a.cmp(eax, 65536);
            a.jae(next);
            a.mov(Element(eax, rax, 0), 0);
            a.add(eax, ebx);
            a.jmp(mark);
            a.Label(ref next);
            a.inc(ebx);
            a.cmp(ebx, 256);
            a.jb(sieve);
            a.xor(edx, edx);
            a.mov(ecx, 65536);
            a.Label(ref sum);
            a.movzx(eax, Element(ecx, rcx, -1));
            a.call(mix);
            a.dec(ecx);
            a.jnz(sum);
            a.jmp(top);
            a.Label(ref mix);
            a.imul(edx, edx, 31);
            a.add(edx, eax);
            a.ret();
        }
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), bitness == 16 ? 0 : Code);
        return stream.ToArray();
    }

    /// <summary>Puts the processor at the start of the guest in the workload's mode.</summary>
    public void Start()
    {
        _cpu.Reset();
        if (Bitness == 16)
        {
            _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = (ushort)(Code >> 4), Base = Code, Limit = 0xFFFF, Attributes = 0x9B });
            _cpu.SetSegment(SegmentIndex.DS, new SegmentRegister { Selector = (ushort)(Array >> 4), Base = Array, Limit = 0xFFFF, Attributes = 0x93 });
            _cpu.SetSegment(SegmentIndex.SS, new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x93 });
            _cpu.Rip = 0;
            _cpu.Rsp = 0x8000;
            return;
        }
        _memory.Write(0x1000, 8, 0);
        _memory.Write(0x1008, 8, Bitness == 64 ? 0x00AF9B000000FFFFUL : 0x00CF9B000000FFFFUL);
        _memory.Write(0x1010, 8, 0x00CF93000000FFFFUL);
        _cpu.Gdtr = new DescriptorTableRegister { Base = 0x1000, Limit = 0x17 };
        if (Bitness == 64)
        {
            const ulong pml4 = 0x100000, pdpt = 0x101000, pd = 0x102000;
            _memory.Write(pml4, 8, pdpt | 7);
            _memory.Write(pdpt, 8, pd | 7);
            for (ulong i = 0; i < 512; i++) _memory.Write(pd + i * 8, 8, (i << 21) | 0x87);
            _cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, pml4, Cr4.PAE, Efer.LME);
        }
        else
        {
            _cpu.LoadControlState(Cr0.PE | Cr0.ET, 0, 0, 0);
        }
        _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 8, Limit = 0xFFFFFFFF, Attributes = Bitness == 64 ? 0xA09Bu : 0xC09Bu });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            _cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        _cpu.Rip = Code;
        _cpu.Rsp = 0x80000;
    }

    /// <summary>Runs <paramref name="instructions"/> guest instructions (cycles are one per instruction).</summary>
    public ulong Run(ulong instructions)
    {
        var before = _cpu.InstructionsRetired;
        var stop = _cpu.Run(_cpu.Cycles + instructions);
        if (stop != StopReason.CycleLimit || _cpu.Rip < _codeStart || _cpu.Rip >= _codeEnd)
            throw new InvalidOperationException($"{Bitness}-bit workload left its loop: {stop} at RIP {_cpu.Rip:x}");
        return _cpu.InstructionsRetired - before;
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }
}
