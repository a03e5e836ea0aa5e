using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// C2 of the trigonometric instructions and #P of F2XM1 for what the SDM leaves to the implementation, checked against
/// the host's x87 (and Bochs 2.7, which agrees) where the generated differential cases found sim apart.
/// </summary>
[TestClass]
public sealed class X87ConditionCodeTests
{
    /// <summary>Fills the stack with 1.0, loads an environment with FCW 037Fh, FSW C2 | C1 and TOP = 0 and the tags <paramref name="tags"/>, then runs <paramref name="instruction"/>: FSW after it.</summary>
    private static ulong StatusAfter(ushort tags, Action<Iced.Intel.Assembler> instruction)
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.fninit();
            a.fld1();
            for (var i = 0; i < 7; i++) a.fld(st0);
            a.mov(__word_ptr[0x9000], 0x037F);
            a.mov(__word_ptr[0x9004], 0x0600);
            a.mov(__word_ptr[0x9008], tags);
            a.fldenv(__[0x9000]);
            instruction(a);
            a.fnstsw(__word_ptr[0x9100]);
            a.hlt();
        });
        Assert.AreEqual(-1, g.RunToVector());
        return g.Memory.Read(0x9100, 2);
    }

    /// <summary>
    /// SDM vol. 2 FSIN, FCOS: C2 is set if the operand is out of range and cleared otherwise; on a stack underflow
    /// (#IS, C1 = 0) the host's x87 clears it too, so a stale C2 from an earlier instruction does not survive.
    /// </summary>
    [TestMethod]
    public void SineAndCosineOfAnEmptyRegisterClearC2()
    {
        Assert.AreEqual(0x0041UL, StatusAfter(0xFFFF, a => a.fsin()));
        Assert.AreEqual(0x0041UL, StatusAfter(0xFFFF, a => a.fcos()));
    }

    /// <summary>FSINCOS and FPTAN clear C2 on a stack underflow (C1 = 0) and on a stack overflow (C1 = 1, SDM vol. 1, 8.5.1.1) alike.</summary>
    [TestMethod]
    public void SineCosineAndTangentClearC2OnStackFaults()
    {
        // Underflow: everything empty; TOP moves to 7 for the push.
        Assert.AreEqual(0x3841UL, StatusAfter(0xFFFF, a => a.fsincos()));
        Assert.AreEqual(0x3841UL, StatusAfter(0xFFFF, a => a.fptan()));
        // Overflow: everything valid.
        Assert.AreEqual(0x3A41UL, StatusAfter(0x0000, a => a.fsincos()));
        Assert.AreEqual(0x3A41UL, StatusAfter(0x0000, a => a.fptan()));
    }

    /// <summary>F2XM1 does not touch C2 (SDM vol. 2, F2XM1: C0, C2, C3 undefined; the host leaves it).</summary>
    [TestMethod]
    public void TwoToXMinusOneOfAnEmptyRegisterLeavesC2() => Assert.AreEqual(0x0441UL, StatusAfter(0xFFFF, a => a.f2xm1()));

    /// <summary>
    /// SDM vol. 2 F2XM1: the result for an operand outside −1.0 … +1.0 is undefined. The host returns the operand
    /// unchanged and reports #P (1.5 and 1.5 · 2^16383 alike); C1 is cleared, C2 left.
    /// </summary>
    [TestMethod]
    [DataRow(0x3FFFUL, 0xC000_0000_0000_0000UL)]
    [DataRow(0x7FFEUL, 0xC000_0000_0000_0000UL)]
    [DataRow(0xC02CUL, 0x8000_0000_0000_0003UL)]
    public void TwoToXMinusOneOutOfRangeIsUnchangedAndInexact(ulong signExponent, ulong significand)
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.fninit();
            a.fld(__tword_ptr[0x9200]);
            a.f2xm1();
            a.fnstsw(__word_ptr[0x9100]);
            a.fstp(__tword_ptr[0x9300]);
            a.hlt();
        });
        g.Memory.Write(0x9200, 8, significand);
        g.Memory.Write(0x9208, 2, signExponent);
        Assert.AreEqual(-1, g.RunToVector());
        Assert.AreEqual(0x3820UL, g.Memory.Read(0x9100, 2));
        Assert.AreEqual(significand, g.Memory.Read(0x9300, 8));
        Assert.AreEqual(signExponent, g.Memory.Read(0x9308, 2));
    }
}
