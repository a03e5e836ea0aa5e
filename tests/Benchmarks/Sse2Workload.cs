using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// An SSE2 loop in 64-bit mode over a 64 KiB array: integer SIMD (PADDD, PMULLW, PXOR, PSRLD, PSHUFD, PCMPEQD),
/// a single-precision pass (CVTDQ2PS, MULPS, ADDPS, CVTTPS2DQ) and a double-precision scalar step (MULSD, ADDSD),
/// with 16-byte aligned loads and stores; the SIMD counterpart of <see cref="InterpreterWorkload"/>.
/// </summary>
public sealed class Sse2Workload : IDisposable
{
    private const ulong Code = 0x10000;
    private const ulong Array = 0x200000;
    private readonly PhysicalMemory _memory = new(32 << 20);
    private readonly Processor _cpu;
    private readonly ulong _codeEnd;

    public Sse2Workload()
    {
        _cpu = new Processor(_memory, new NullBus());
        var code = Assemble();
        _memory.WriteBytes(Code, code);
        _codeEnd = Code + (ulong)code.Length;
        for (ulong i = 0; i < 65536; i += 4) _memory.Write(Array + i, 4, (uint)(i * 2654435761));
    }

    private sealed class NullBus : IIoBus
    {
        public uint Read(ushort port, int size) => 0xFFFFFFFF;
        public void Write(ushort port, int size, uint value) { }
    }

    private static byte[] Assemble()
    {
        var a = new Assembler(64);
        var top = a.CreateLabel();
        var loop = a.CreateLabel();
        a.mov(rax, 0x3FF0_0000_0000_0001UL);
        a.movq(xmm7, rax);
        a.pcmpeqd(xmm6, xmm6);
        a.psrld(xmm6, 25);
        a.cvtdq2ps(xmm5, xmm6);
        a.Label(ref top);
        a.mov(rdi, Array);
        a.mov(ecx, 4096);
        a.Label(ref loop);
        a.movdqa(xmm0, __xmmword_ptr[rdi]);
        a.movdqa(xmm1, xmm0);
        a.paddd(xmm1, xmm6);
        a.pmullw(xmm1, xmm0);
        a.pxor(xmm1, xmm0);
        a.psrld(xmm1, 3);
        a.pshufd(xmm2, xmm1, 0x4E);
        a.pcmpeqd(xmm2, xmm1);
        a.cvtdq2ps(xmm3, xmm1);
        a.mulps(xmm3, xmm5);
        a.addps(xmm3, xmm5);
        a.cvttps2dq(xmm3, xmm3);
        a.paddd(xmm3, xmm2);
        a.movdqa(__xmmword_ptr[rdi], xmm3);
        a.mulsd(xmm7, xmm7);
        a.addsd(xmm7, xmm5);
        a.add(rdi, 16);
        a.dec(ecx);
        a.jnz(loop);
        a.jmp(top);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), Code);
        return stream.ToArray();
    }

    public void Start()
    {
        _cpu.Reset();
        _memory.Write(0x1000, 8, 0);
        _memory.Write(0x1008, 8, 0x00AF9B000000FFFFUL);
        _memory.Write(0x1010, 8, 0x00CF93000000FFFFUL);
        _cpu.Gdtr = new DescriptorTableRegister { Base = 0x1000, Limit = 0x17 };
        const ulong pml4 = 0x100000, pdpt = 0x101000, pd = 0x102000;
        _memory.Write(pml4, 8, pdpt | 7);
        _memory.Write(pdpt, 8, pd | 7);
        for (ulong i = 0; i < 512; i++) _memory.Write(pd + i * 8, 8, (i << 21) | 0x87);
        _cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET | Cr0.MP, pml4, Cr4.PAE | Cr4.OSFXSR | Cr4.OSXMMEXCPT, Efer.LME);
        _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 8, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
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
            throw new InvalidOperationException($"SSE2 workload left its loop: {stop} at RIP {_cpu.Rip:x}");
        return _cpu.InstructionsRetired - before;
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }
}
