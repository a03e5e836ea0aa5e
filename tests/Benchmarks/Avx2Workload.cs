using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// The AVX2 and FMA counterpart of <see cref="Sse2Workload"/> in 64-bit mode over the same 64 KiB
/// array, 32 bytes a turn: VPADDD, VPMULLD, VPXOR, VPSRLD, VPERMQ (across the 128-bit lanes), VPCMPEQD,
/// VCVTDQ2PS, VFMADD213PS, VCVTTPS2DQ on YMM registers, a scalar VFMADD213SD step, 32-byte aligned
/// VMOVDQA loads and stores. It runs only where the processor announces AVX2 and FMA (<see cref="IsAnnounced"/>).
/// </summary>
public static class Avx2Workload
{
    private const ulong Array = 0x200000;

    public static GuestLoop Create() =>
        new("AVX2 workload", 64, Assemble(), 32 << 20, avx: true, initialise: memory =>
        {
            for (ulong i = 0; i < 65536; i += 4) memory.Write(Array + i, 4, (uint)(i * 2654435761));
        });

    /// <summary>CPUID.01H:ECX.FMA (12), XSAVE (26), AVX (28) and CPUID.(EAX=07H,ECX=0):EBX.AVX2 (5), SDM Vol. 2A, CPUID.</summary>
    public static bool IsAnnounced(GuestLoop loop)
    {
        const uint Leaf1 = (1u << 12) | (1u << 26) | (1u << 28);
        loop.Processor.Cpuid(1, 0, out _, out _, out var ecx, out _);
        loop.Processor.Cpuid(7, 0, out _, out var ebx, out _, out _);
        return (ecx & Leaf1) == Leaf1 && (ebx & (1u << 5)) != 0;
    }

    private static byte[] Assemble()
    {
        var a = new Assembler(64);
        var top = a.CreateLabel();
        var loop = a.CreateLabel();
        a.mov(rax, 0x3FF0_0000_0000_0001UL);
        a.vmovq(xmm7, rax);
        a.vpcmpeqd(ymm6, ymm6, ymm6);
        a.vpsrld(ymm6, ymm6, 25);
        a.vcvtdq2ps(ymm5, ymm6);
        a.Label(ref top);
        a.mov(rdi, Array);
        a.mov(ecx, 2048);
        a.Label(ref loop);
        a.vmovdqa(ymm0, __ymmword_ptr[rdi]);
        a.vpaddd(ymm1, ymm0, ymm6);
        a.vpmulld(ymm1, ymm1, ymm0);
        a.vpxor(ymm1, ymm1, ymm0);
        a.vpsrld(ymm1, ymm1, 3);
        a.vpermq(ymm2, ymm1, 0x4E);
        a.vpcmpeqd(ymm2, ymm2, ymm1);
        a.vcvtdq2ps(ymm3, ymm1);
        a.vfmadd213ps(ymm3, ymm5, ymm5);
        a.vcvttps2dq(ymm3, ymm3);
        a.vpaddd(ymm3, ymm3, ymm2);
        a.vmovdqa(__ymmword_ptr[rdi], ymm3);
        a.vfmadd213sd(xmm7, xmm7, xmm5);
        a.add(rdi, 32);
        a.dec(ecx);
        a.jnz(loop);
        a.jmp(top);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), GuestLoop.Code);
        return stream.ToArray();
    }
}
