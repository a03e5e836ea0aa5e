using Sim.Cpu.X87;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// The fast paths of the basic arithmetic (<see cref="NormalArithmetic"/>) and of the real32/real64 loads and stores
/// against the general code they shortcut, bit for bit (value, exceptions, C1), on operands aimed at the fast paths'
/// edges: results at the smallest and largest normal exponents, one below and above them, ties and near-ties at the
/// 24-, 53- and 64-bit rounding positions, every rounding control, every precision control (the reserved one
/// included) and random exception masks. Where a fast path declines, the general code is what runs, so only the
/// cases it takes are compared; the tests also check that it takes and declines the cases it must.
/// </summary>
[TestClass]
public sealed class X87FastPathTests
{
    private const int Cases = 300_000;

    [TestMethod]
    public void ArithmeticFastPathMatchesTheGeneralPath()
    {
        var g = new OperandGenerator(0x5EED_FA57);
        int[] operations = [0, 1, 4, 5, 6, 7];
        var taken = new int[8];
        var declined = new int[8];
        for (var i = 0; i < Cases; i++)
        {
            var operation = operations[g.Below(operations.Length)];
            var a = Edge(g);
            var b = g.Chance(10) ? Edge(g) : g.Aimed(a, divide: operation >= 6);
            if (g.Chance(5)) b = new ExtendedReal(g.Chance(50), 0, 0);
            if (g.Chance(5)) (a, b) = (b, a);
            var cw = new FpuControlWord((ushort)((g.ControlWord() & ~0x3F) | (ushort)(g.Next() & 0x3F)));
            var general = operation switch
            {
                0 => BasicArithmetic.GeneralAdd(a, b, b.Sign, cw),
                1 => BasicArithmetic.GeneralMultiply(a, b, cw),
                4 => BasicArithmetic.GeneralAdd(a, b, !b.Sign, cw),
                5 => BasicArithmetic.GeneralAdd(b, a, !a.Sign, cw),
                6 => BasicArithmetic.GeneralDivide(a, b, cw),
                _ => BasicArithmetic.GeneralDivide(b, a, cw),
            };
            if (!NormalArithmetic.TryCompute(operation, a, b, cw, out var fast))
            {
                declined[operation]++;
                // Normal operands well inside the range give a normal result, a zero with one of them (or a zero) for
                // FADD, FSUB and FMUL an exact zero or the normal, a zero dividend and a normal divisor a zero: those
                // the fast path must take.
                var mustTake = operation switch
                {
                    6 => (Central(a) || a.IsZero) && Central(b),
                    7 => (Central(b) || b.IsZero) && Central(a),
                    _ => (Central(a) || a.IsZero) && (Central(b) || b.IsZero),
                };
                Assert.IsFalse(mustTake, $"op {operation} {a} {b} cw {cw.Value:X4}: declined a case it must take");
                continue;
            }
            taken[operation]++;
            Assert.AreEqual(general, fast, $"op {operation} {a} {b} cw {cw.Value:X4}");
        }
        foreach (var operation in operations)
        {
            Assert.IsTrue(taken[operation] > Cases / 60, $"op {operation}: the fast path took only {taken[operation]} cases");
            Assert.IsTrue(declined[operation] > Cases / 600, $"op {operation}: the fast path declined only {declined[operation]} cases");
        }
    }

    [TestMethod]
    public void StoreFastPathMatchesTheGeneralPath()
    {
        var g = new OperandGenerator(0x5EED_57);
        var taken = 0;
        for (var i = 0; i < Cases; i++)
        {
            var a = g.Chance(80) ? g.NearNarrowLimits() : Edge(g);
            var cw = new FpuControlWord((ushort)((g.ControlWord() & ~0x3F) | (ushort)(g.Next() & 0x3F)));
            var fast32 = RealConversion.ToBinary32(a, cw);
            var fast64 = RealConversion.ToBinary64(a, cw);
            Assert.AreEqual(RealConversion.GeneralToBinary32(a, cw), fast32, $"binary32 {a} cw {cw.Value:X4}");
            Assert.AreEqual(RealConversion.GeneralToBinary64(a, cw), fast64, $"binary64 {a} cw {cw.Value:X4}");
            if (IsNormal(a)) taken++;
        }
        Assert.IsTrue(taken > Cases / 2);
    }

    [TestMethod]
    public void LoadFastPathMatchesTheGeneralPath()
    {
        var g = new OperandGenerator(0x5EED_10AD);
        for (var i = 0; i < Cases; i++)
        {
            var bits64 = g.NarrowBits(64);
            var bits32 = (uint)g.NarrowBits(32);
            Assert.AreEqual(RealConversion.GeneralFromBinary64(bits64), RealConversion.FromBinary64(bits64), $"binary64 {bits64:X16}");
            Assert.AreEqual(RealConversion.GeneralFromBinary32(bits32), RealConversion.FromBinary32(bits32), $"binary32 {bits32:X8}");
        }
        // The normal extremes: the smallest and largest normal of each format, both signs.
        foreach (var bits in new ulong[] { 0x0010_0000_0000_0000, 0x7FEF_FFFF_FFFF_FFFF, 0x8010_0000_0000_0000, 0xFFEF_FFFF_FFFF_FFFF })
            Assert.AreEqual(RealConversion.GeneralFromBinary64(bits), RealConversion.FromBinary64(bits), $"binary64 {bits:X16}");
        foreach (var bits in new uint[] { 0x0080_0000, 0x7F7F_FFFF, 0x8080_0000, 0xFF7F_FFFF })
            Assert.AreEqual(RealConversion.GeneralFromBinary32(bits), RealConversion.FromBinary32(bits), $"binary32 {bits:X8}");
    }

    /// <summary>Operands at the edges of the normal range and around 1, with significands at rounding edges, and some specials.</summary>
    private static ExtendedReal Edge(OperandGenerator g) => g.Below(8) switch
    {
        0 => g.Special(),
        1 => g.Normal(1, 70),
        2 => g.Normal(0x7FFE - 70, 0x7FFE),
        3 => g.Normal(0x3FFF - 70, 0x3FFF + 70),
        4 => new ExtendedReal(g.Chance(50), 0x3FFF - 0x2000 + g.Below(0x4000), g.Significand()),
        5 => g.NearNarrowLimits(),
        _ => g.Normal(),
    };

    private static bool IsNormal(ExtendedReal v) => v.Class == ExtendedRealClass.Normal;

    private static bool Central(ExtendedReal v) => IsNormal(v) && Math.Abs(v.Exponent - ExtendedReal.ExponentBias) < 0x1000;
}
