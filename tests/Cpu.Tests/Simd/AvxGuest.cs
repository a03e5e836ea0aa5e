using Iced.Intel;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// 64-bit guests for the AVX tests, set up as an OS enables AVX (SDM vol. 1, 13.3 and 14.3): CR4.OSFXSR, OSXMMEXCPT and
/// OSXSAVE by MOV CR4, then XCR0 = 7 (x87, SSE, AVX) by XSETBV; data at <see cref="SimdGuest.Data"/> in RSI.
/// </summary>
internal static class AvxGuest
{
    public static GuestRunner Long(Action<Assembler> body, uint xcr0 = 7, ulong cr4Bits = Cr4.OSFXSR | Cr4.OSXMMEXCPT | Cr4.OSXSAVE)
    {
        return GuestRunner.Long(a =>
        {
            a.mov(rax, cr4);
            a.or(rax, (int)cr4Bits);
            a.mov(cr4, rax);
            if ((cr4Bits & Cr4.OSXSAVE) != 0)
            {
                a.xor(ecx, ecx);
                a.xor(edx, edx);
                a.mov(eax, xcr0);
                a.xsetbv();
            }
            a.mov(rsi, SimdGuest.Data);
            body(a);
            a.hlt();
        });
    }

    public static void SetYmm(Processor cpu, int ymm, params ulong[] qwords)
    {
        for (var i = 0; i < 4; i++) BitConverter.TryWriteBytes(cpu.VectorRegister(ymm)[(i * 8)..], i < qwords.Length ? qwords[i] : 0);
    }

    public static ulong[] Ymm(Processor cpu, int ymm) => [.. Enumerable.Range(0, 4).Select(i => SimdGuest.Qword(cpu, ymm, i))];

    public static void SetSingles(Processor cpu, int ymm, params float[] values)
    {
        for (var i = 0; i < 8; i++) BitConverter.TryWriteBytes(cpu.VectorRegister(ymm)[(i * 4)..], i < values.Length ? values[i] : 0f);
    }

    public static float Single(Processor cpu, int ymm, int lane) => BitConverter.ToSingle(cpu.VectorRegister(ymm).Slice(lane * 4, 4));
}
