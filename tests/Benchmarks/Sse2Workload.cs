using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// An SSE2 loop in 64-bit mode over a 64 KiB array: integer SIMD (PADDD, PMULLW, PXOR, PSRLD, PSHUFD, PCMPEQD),
/// a single-precision pass (CVTDQ2PS, MULPS, ADDPS, CVTTPS2DQ) and a double-precision scalar step (MULSD, ADDSD),
/// with 16-byte aligned loads and stores; the SIMD counterpart of <see cref="InterpreterWorkload"/>.
/// </summary>
public static class Sse2Workload
{
    private const ulong Array = 0x200000;

    public static GuestLoop Create() =>
        new("SSE2 workload", 64, Assemble(), 32 << 20, initialise: memory =>
        {
            for (ulong i = 0; i < 65536; i += 4) memory.Write(Array + i, 4, (uint)(i * 2654435761));
        });

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
        a.Assemble(new StreamCodeWriter(stream), GuestLoop.Code);
        return stream.ToArray();
    }
}
