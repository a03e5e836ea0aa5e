using Iced.Intel;
using Sim.Cpu.Registers;
using Sim.Cpu.X87;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.Xsave;

/// <summary>
/// 64-bit guests for the XSAVE tests: CR4.OSFXSR, OSXMMEXCPT and OSXSAVE set, XCR0 set by XSETBV (x87 | SSE | AVX by
/// default), RSI at <see cref="Area"/> (64-byte aligned), filled with <see cref="Fill"/> so that untouched bytes show.
/// </summary>
internal static class XsaveGuest
{
    public const ulong Area = 0x200000;
    public const ulong Other = 0x201000;
    public const byte Fill = 0xCC;

    public static GuestRunner Long(Action<Assembler> body, ulong xcr0 = 7, bool osxsave = true)
    {
        var g = GuestRunner.Long(a =>
        {
            a.mov(rax, cr4);
            a.or(rax, (int)(Cr4.OSFXSR | Cr4.OSXMMEXCPT | (osxsave ? Cr4.OSXSAVE : 0)));
            a.mov(cr4, rax);
            if (osxsave)
            {
                a.xor(ecx, ecx);
                a.xor(edx, edx);
                a.mov(eax, (uint)xcr0);
                a.xsetbv();
            }
            a.mov(rsi, Area);
            body(a);
            a.hlt();
        });
        g.Memory.WriteBytes(Area, Enumerable.Repeat(Fill, 0x2000).ToArray());
        return g;
    }

    /// <summary>EDX:EAX = <paramref name="mask"/>.</summary>
    public static void Mask(Assembler a, ulong mask)
    {
        a.mov(eax, (uint)mask);
        a.mov(edx, (uint)(mask >> 32));
    }

    public static void RunToEnd(GuestRunner g) => Assert.AreEqual(-1, g.RunToVector(), $"RIP={g.Cpu.Rip:x}");

    public static ExtendedReal Real(int i) => new((ushort)(0x3FFF + i), 0x8000_0000_0000_0000UL | (ulong)i * 0x0101_0101);

    /// <summary>A distinct non-initial value in every x87, SSE and AVX register: TOP = 1, tags of R1 and R7 valid.</summary>
    public static void FillState(Processor cpu)
    {
        cpu.FpuControlWord = 0x027A;
        cpu.FpuStatusWord = 0x0800 | 0x0021;
        cpu.FpuAbridgedTagWord = 0x82;
        cpu.FpuOpcode = 0x0123;
        cpu.FpuInstructionPointer = 0x1122_3344_5566_7788;
        cpu.FpuInstructionSelector = 0x0033;
        cpu.FpuDataPointer = 0x99AA_BBCC_DDEE_FF00;
        cpu.FpuDataSelector = 0x002B;
        for (var i = 0; i < 8; i++) cpu.SetFpuRegister(i, Real(i + 1));
        cpu.Mxcsr = 0x1F81;
        for (var r = 0; r < 16; r++)
            for (var b = 0; b < 32; b++) cpu.VectorRegister(r)[b] = (byte)(0x10 * (b / 16 + 1) + r + b * 7);
    }

    public static byte[] Read(GuestRunner g, ulong address, int length)
    {
        var bytes = new byte[length];
        g.Memory.ReadBytes(address, bytes);
        return bytes;
    }

    public static ulong Qword(GuestRunner g, ulong address) => g.Memory.Read(address, 8);

    public static void AssertUntouched(GuestRunner g, int from, int to, string what)
    {
        var bytes = Read(g, Area + (ulong)from, to - from);
        Assert.IsTrue(bytes.All(b => b == Fill), $"{what} (bytes {from}–{to - 1}) not written");
    }

    /// <summary>Writes an XSAVE header at <paramref name="area"/> + 512: XSTATE_BV, XCOMP_BV and 48 zero bytes.</summary>
    public static void Header(GuestRunner g, ulong area, ulong xstateBv, ulong xcompBv = 0)
    {
        g.Memory.Write(area + 512, 8, xstateBv);
        g.Memory.Write(area + 520, 8, xcompBv);
        g.Memory.WriteBytes(area + 528, new byte[48]);
    }
}
