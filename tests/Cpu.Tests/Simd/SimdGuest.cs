using Iced.Intel;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.Simd;

/// <summary>64-bit guests for the SIMD tests: CR4.OSFXSR and OSXMMEXCPT set by MOV CR4 (as an OS would), data at <see cref="Data"/>.</summary>
internal static class SimdGuest
{
    public const ulong Data = 0x200000;

    public static GuestRunner Long(Action<Assembler> body, ulong cr4Bits = Cr4.OSFXSR | Cr4.OSXMMEXCPT)
    {
        return GuestRunner.Long(a =>
        {
            a.mov(rax, cr4);
            a.or(rax, (int)cr4Bits);
            a.mov(cr4, rax);
            a.mov(rsi, Data);
            body(a);
            a.hlt();
        });
    }

    /// <summary>Runs to the final HLT (not an exception stub).</summary>
    public static void RunToEnd(GuestRunner g) => Assert.AreEqual(-1, g.RunToVector(), $"RIP={g.Cpu.Rip:x}");

    public static uint Dword(Processor cpu, int xmm, int lane) => BitConverter.ToUInt32(cpu.VectorRegister(xmm).Slice(lane * 4, 4));

    public static ulong Qword(Processor cpu, int xmm, int lane) => BitConverter.ToUInt64(cpu.VectorRegister(xmm).Slice(lane * 8, 8));

    public static void SetXmm(Processor cpu, int xmm, ulong low, ulong high)
    {
        BitConverter.TryWriteBytes(cpu.VectorRegister(xmm), low);
        BitConverter.TryWriteBytes(cpu.VectorRegister(xmm)[8..], high);
    }

    public static void SetSingles(Processor cpu, int xmm, float a, float b = 0, float c = 0, float d = 0) =>
        SetXmm(cpu, xmm, Pair(a, b), Pair(c, d));

    public static ulong Pair(float a, float b) => BitConverter.SingleToUInt32Bits(a) | ((ulong)BitConverter.SingleToUInt32Bits(b) << 32);

    /// <summary>MMi is the significand of x87 register i; writing it sets the exponent and sign to all ones (SDM vol. 1, 9.5.1).</summary>
    public static void SetMm(Processor cpu, int mm, ulong value) => cpu.SetFpuRegister(mm, new Sim.Cpu.X87.ExtendedReal(0xFFFF, value));

    public static ulong Mm(Processor cpu, int mm) => cpu.GetFpuRegister(mm).Significand;

    public static uint Bits(float f) => BitConverter.SingleToUInt32Bits(f);
}
