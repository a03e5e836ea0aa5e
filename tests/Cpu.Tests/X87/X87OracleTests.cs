using System.Text;
using Sim.Cpu.X87;
using Fpu = Sim.Cpu.X87;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// The soft-float against the host's x87, bit for bit: results, the six exception flags and the condition codes each
/// operation defines. Exceptions are masked unless a test's control words unmask some; then the result compared is the
/// one the destination receives.
/// </summary>
[TestClass]
public sealed class X87OracleTests
{
    private const ushort Flags = 0x3F;
    private const ushort C0 = 1 << 8, C1 = 1 << 9, C2 = 1 << 10, C3 = 1 << 14;

    public TestContext TestContext { get; set; } = null!;

    private delegate (string R1, string R2, ushort Status) Simulation(ushort cw, ExtendedReal a, ExtendedReal b);

    [TestMethod] public void Add() => Check("add", 1, Binary(BasicArithmetic.Add));
    [TestMethod] public void Subtract() => Check("sub", 2, Binary(BasicArithmetic.Subtract));
    [TestMethod] public void Multiply() => Check("mul", 3, Binary(BasicArithmetic.Multiply), second: (g, a) => g.Aimed(a, divide: false));
    [TestMethod] public void Divide() => Check("div", 4, Binary(BasicArithmetic.Divide), second: (g, a) => g.Aimed(a, divide: true));
    // Normal operands only, with results aimed at the ends of the normal range: the cases the fast path of
    // NormalArithmetic takes and the nearest ones it must decline.
    [TestMethod] public void AddOfNormals() => Check("add", 51, Binary(BasicArithmetic.Add), first: NormalNearEdges, second: (g, a) => NormalRelated(g, a, g.Related(a)));
    [TestMethod] public void SubtractOfNormals() => Check("sub", 52, Binary(BasicArithmetic.Subtract), first: NormalNearEdges, second: (g, a) => NormalRelated(g, a, g.Related(a)));
    [TestMethod] public void MultiplyOfNormals() => Check("mul", 53, Binary(BasicArithmetic.Multiply), first: NormalNearEdges, second: (g, a) => NormalRelated(g, a, g.Aimed(a, divide: false)));
    [TestMethod] public void DivideOfNormals() => Check("div", 54, Binary(BasicArithmetic.Divide), first: NormalNearEdges, second: (g, a) => NormalRelated(g, a, g.Aimed(a, divide: true)));

    [TestMethod] public void SquareRoot() => Check("sqrt", 5, Binary((a, _, cw) => BasicArithmetic.SquareRoot(a, cw)), unary: true,
        first: g => g.Chance(80) ? g.Any().Abs() : g.Any());

    [TestMethod]
    public void AddWithUnmaskedOverflowUnderflow() => Check("add", 31, Binary(BasicArithmetic.Add), controlWord: UnmaskOverflowUnderflow,
        first: g => g.Normal(1, 80), second: (g, a) => g.Chance(50) ? g.Normal(1, 80) : g.Normal(0x7FFE - 2, 0x7FFE));

    [TestMethod]
    public void MultiplyWithUnmaskedOverflowUnderflow() => Check("mul", 32, Binary(BasicArithmetic.Multiply), controlWord: UnmaskOverflowUnderflow,
        second: (g, a) => g.Aimed(a, divide: false));

    [TestMethod]
    public void DivideWithUnmaskedOverflowUnderflow() => Check("div", 33, Binary(BasicArithmetic.Divide), controlWord: UnmaskOverflowUnderflow,
        second: (g, a) => g.Aimed(a, divide: true));

    [TestMethod]
    public void ScaleWithUnmaskedOverflowUnderflow() => Check("scale", 34, Binary(Fpu.Scale.Apply), controlWord: UnmaskOverflowUnderflow,
        second: ScaleFactor);

    [TestMethod] public void AddWithUnmaskedExceptions() => Check("add", 41, Delivered(BasicArithmetic.Add), controlWord: UnmaskAny);
    [TestMethod] public void MultiplyWithUnmaskedExceptions() => Check("mul", 42, Delivered(BasicArithmetic.Multiply), controlWord: UnmaskAny, second: (g, a) => g.Aimed(a, divide: false));
    [TestMethod] public void DivideWithUnmaskedExceptions() => Check("div", 43, Delivered(BasicArithmetic.Divide), controlWord: UnmaskAny, second: (g, a) => g.Aimed(a, divide: true));
    [TestMethod] public void SquareRootWithUnmaskedExceptions() => Check("sqrt", 44, Delivered((a, _, cw) => BasicArithmetic.SquareRoot(a, cw)), controlWord: UnmaskAny, unary: true);
    [TestMethod] public void ScaleWithUnmaskedExceptions() => Check("scale", 45, Delivered(Fpu.Scale.Apply), controlWord: UnmaskAny, second: ScaleFactor);
    [TestMethod] public void RoundToIntegerWithUnmaskedExceptions() => Check("rndint", 46, Delivered((a, _, cw) => Fpu.RoundToInteger.Round(a, cw)), controlWord: UnmaskAny, unary: true, first: g => g.Integral());

    [TestMethod]
    public void PartialRemainderWithUnmaskedExceptions() => Check("prem", 47, (cw, a, b) =>
    {
        var control = new FpuControlWord(cw);
        var r = Fpu.PartialRemainder.Fprem(a, b, control);
        var delivered = new FpuResult(r.Value, r.Exceptions).DeliveredTo(a, control);
        var codes = r.StopsInstruction(control) ? 0 : r.ConditionCodes.StatusWordBits;
        return (delivered.Value.ToString(), Zero80, (ushort)((ushort)delivered.Exceptions | codes));
    }, controlWord: UnmaskAny, statusMask: Flags | Codes, second: RemainderDivisor);

    /// <summary>The result as a register destination (ST(0) = a) receives it, whatever the control word unmasks.</summary>
    private static Simulation Delivered(Func<ExtendedReal, ExtendedReal, FpuControlWord, FpuResult> op) => (cw, a, b) =>
    {
        var control = new FpuControlWord(cw);
        var r = op(a, b, control).DeliveredTo(a, control);
        return (r.Value.ToString(), Zero80, Status(r));
    };

    private static ushort UnmaskAny(OperandGenerator g) => g.ControlWordUnmasking(FpuExceptions.All);

    private static ushort UnmaskOverflowUnderflow(OperandGenerator g) => g.ControlWordUnmaskingOverflowUnderflow();

    [TestMethod] public void PartialRemainder() => Check("prem", 6, Remainder(Fpu.PartialRemainder.Fprem), statusMask: Flags | Codes, second: RemainderDivisor);
    [TestMethod] public void PartialRemainderIeee() => Check("prem1", 7, Remainder(Fpu.PartialRemainder.Fprem1), statusMask: Flags | Codes, second: RemainderDivisor);
    [TestMethod] public void RoundToInteger() => Check("rndint", 8, Binary((a, _, cw) => Fpu.RoundToInteger.Round(a, cw)), unary: true, first: g => g.Integral());
    [TestMethod] public void Scale() => Check("scale", 9, Binary(Fpu.Scale.Apply), second: ScaleFactor);
    [TestMethod] public void Compare() => Check("com", 10, Comparison(Fpu.Comparison.Compare), statusMask: Flags | Codes);
    [TestMethod] public void CompareUnordered() => Check("ucom", 11, Comparison(Fpu.Comparison.CompareUnordered), statusMask: Flags | Codes);

    [TestMethod]
    public void Examine() => Check("xam", 12, (_, a, _) => (a.ToString(), Zero80, Fpu.Examine.Classify(a).StatusWordBits), unary: true, statusMask: Codes);

    [TestMethod]
    public void ExtractExponent() => Check("xtract", 13, (_, a, _) =>
    {
        var r = Fpu.ExtractExponent.Extract(a);
        return (r.Significand.ToString(), r.Exponent.ToString(), (ushort)r.Exceptions);
    }, unary: true);

    [TestMethod] public void StoreBinary32() => CheckStore("st32", 14, 32, RealConversion.ToBinary32, g => g.NearNarrowLimits());
    [TestMethod] public void StoreBinary64() => CheckStore("st64", 15, 64, RealConversion.ToBinary64, g => g.NearNarrowLimits());
    [TestMethod] public void StoreInt16() => CheckStore("ist16", 16, 16, IntegerConversion.ToInt16, g => g.Integral());
    [TestMethod] public void StoreInt32() => CheckStore("ist32", 17, 32, IntegerConversion.ToInt32, g => g.Integral());
    [TestMethod] public void StoreInt64() => CheckStore("ist64", 18, 64, IntegerConversion.ToInt64, g => g.Integral());
    [TestMethod] public void StoreInt16Truncating() => CheckStore("istt16", 19, 16, (a, _) => IntegerConversion.TruncateToInt16(a), g => g.Integral());
    [TestMethod] public void StoreInt32Truncating() => CheckStore("istt32", 20, 32, (a, _) => IntegerConversion.TruncateToInt32(a), g => g.Integral());
    [TestMethod] public void StoreInt64Truncating() => CheckStore("istt64", 21, 64, (a, _) => IntegerConversion.TruncateToInt64(a), g => g.Integral());

    /// <summary>Stores, with IE, OE, UE and PE unmasked in half the requests: a suppressed store leaves the oracle's sentinel.</summary>
    private void CheckStore(string op, ulong seed, int width, Func<ExtendedReal, FpuControlWord, ConversionResult> convert, Func<OperandGenerator, ExtendedReal> first) =>
        Check(op, seed, (cw, a, _) =>
        {
            var control = new FpuControlWord(cw);
            var r = convert(a, control);
            var sentinel = 0x5A5A_5A5A_5A5A_5A5AUL & (width == 64 ? ulong.MaxValue : (1UL << width) - 1);
            var bits = r.IsWritten(control) ? r.Bits : sentinel;
            return ($"0000{bits:X16}", Zero80, (ushort)((ushort)r.Exceptions | (r.RoundedUp ? C1 : 0)));
        }, unary: true, first: first,
        controlWord: g => g.ControlWordUnmasking(FpuExceptions.Invalid | FpuExceptions.Overflow | FpuExceptions.Underflow | FpuExceptions.Precision));

    [TestMethod]
    public void StorePackedBcd() => Check("bstp", 22, (cw, a, _) =>
    {
        var control = new FpuControlWord(cw);
        var r = BcdConversion.Store(a, control);
        return (r.IsWritten(control) ? r.Value.ToString() : Zero80, Zero80, (ushort)((ushort)r.Exceptions | (r.RoundedUp ? C1 : 0)));
    }, unary: true, first: g => g.Integral(), controlWord: g => g.ControlWordUnmasking(FpuExceptions.Invalid | FpuExceptions.Precision));

    [TestMethod]
    public void LoadBinary32() => Check("ld32", 23, (_, a, _) => Result(RealConversion.FromBinary32((uint)a.Significand)), unary: true,
        first: g => new ExtendedReal(0, g.NarrowBits(32)));

    [TestMethod]
    public void LoadBinary64() => Check("ld64", 24, (_, a, _) => Result(RealConversion.FromBinary64(a.Significand)), unary: true,
        first: g => new ExtendedReal(0, g.NarrowBits(64)));

    [TestMethod]
    public void LoadInt64() => Check("ild64", 25, (_, a, _) => (IntegerConversion.FromInt64((long)a.Significand).ToString(), Zero80, 0), unary: true,
        count: 2000, first: g => new ExtendedReal(0, g.Next() >> g.Below(64)));

    [TestMethod]
    public void LoadPackedBcd() => Check("bld", 26, (_, a, _) => (BcdConversion.Load(new PackedBcd(a.SignExponent, a.Significand)).ToString(), Zero80, 0),
        unary: true, count: 5000, first: g => g.PackedBcdOperand());

    private const ushort Codes = C0 | C1 | C2 | C3;

    private static ExtendedReal NormalNearEdges(OperandGenerator g) => g.Below(4) switch
    {
        0 => g.Normal(1, 80),
        1 => g.Normal(0x7FFE - 80, 0x7FFE),
        2 => g.Normal(0x3FFF - 70, 0x3FFF + 70),
        _ => g.Normal(),
    };

    /// <summary>The candidate if it is normal, else a normal near the first operand.</summary>
    private static ExtendedReal NormalRelated(OperandGenerator g, ExtendedReal a, ExtendedReal candidate) =>
        candidate.Class == ExtendedRealClass.Normal ? candidate : new(g.Chance(50), Math.Clamp(a.Exponent + g.Below(140) - 70, 1, 0x7FFE), g.Significand());

    private static ExtendedReal RemainderDivisor(OperandGenerator g, ExtendedReal a)
    {
        if (!OperandGenerator.IsFiniteNonzero(a) || g.Chance(30))
            return g.Related(a);
        // Exponent differences around the complete/partial boundary of 64 and a few multiples of 32 beyond.
        var difference = g.Below(4) switch { 0 => g.Below(8) - 2, 1 => 60 + g.Below(8), 2 => g.Below(200), _ => g.Below(64) };
        var exponent = Math.Clamp(a.Exponent - difference, 0, 0x7FFE);
        return new ExtendedReal(g.Chance(50), exponent, exponent == 0 ? g.Next() >> 1 : g.Significand());
    }

    private static ExtendedReal ScaleFactor(OperandGenerator g, ExtendedReal a)
    {
        if (g.Chance(20))
            return g.Any();
        // Scale factors that move a toward or past either end of the exponent range, some of them fractional.
        // The targets include the ends of the range the unmasked responses' bias adjustment of 24576 can bring back.
        var target = g.Below(5) switch { 0 => 0, 1 => 0x7FFF, 2 => 0x7FFF + 24576, 3 => -24576, _ => g.Below(0x7FFF) };
        var n = target - a.Exponent + g.Below(130) - 65;
        var r = IntegerConversion.FromInt64(n);
        if (g.Chance(30) && !r.IsZero)
            r = new ExtendedReal(r.SignExponent, r.Significand | (g.Next() >> 20));
        return r;
    }

    private static Simulation Remainder(Func<ExtendedReal, ExtendedReal, FpuControlWord, PartialRemainderResult> op) => (cw, a, b) =>
    {
        var r = op(a, b, new FpuControlWord(cw));
        return (r.Value.ToString(), Zero80, (ushort)((ushort)r.Exceptions | r.ConditionCodes.StatusWordBits));
    };

    private static Simulation Comparison(Func<ExtendedReal, ExtendedReal, ComparisonResult> op) => (_, a, b) =>
    {
        var r = op(a, b);
        return (a.ToString(), Zero80, (ushort)((ushort)r.Exceptions | r.ConditionCodes.StatusWordBits));
    };

    private static Simulation Store(Func<ExtendedReal, FpuControlWord, ConversionResult> op) => (cw, a, _) =>
    {
        var r = op(a, new FpuControlWord(cw));
        return ($"0000{r.Bits:X16}", Zero80, (ushort)((ushort)r.Exceptions | (r.RoundedUp ? C1 : 0)));
    };

    private static (string, string, ushort) Result(FpuResult r) => (r.Value.ToString(), Zero80, Status(r));

    private static Simulation Binary(Func<ExtendedReal, ExtendedReal, FpuControlWord, FpuResult> op) => (cw, a, b) =>
    {
        var r = op(a, b, new FpuControlWord(cw));
        return (r.Value.ToString(), Zero80, Status(r));
    };

    private const string Zero80 = "00000000000000000000";

    private static ushort Status(FpuResult r) => (ushort)((ushort)r.Exceptions | (r.RoundedUp ? C1 : 0));

    private void Check(string op, ulong seed, Simulation simulate, int count = 20000, bool unary = false, ushort statusMask = Flags | C1,
        Func<OperandGenerator, ExtendedReal>? first = null, Func<OperandGenerator, ExtendedReal, ExtendedReal>? second = null,
        Func<OperandGenerator, ushort>? controlWord = null)
    {
        var gen = new OperandGenerator(seed * 0x1000193);
        var requests = new List<X87Oracle.Request>(count);
        for (var i = 0; i < count; i++)
        {
            var a = first?.Invoke(gen) ?? gen.Any();
            var b = unary ? ExtendedReal.PositiveZero : second?.Invoke(gen, a) ?? gen.Related(a);
            requests.Add(new(op, controlWord?.Invoke(gen) ?? gen.ControlWord(), a.ToString(), b.ToString()));
        }
        var responses = X87Oracle.Run(requests);
        var failures = new StringBuilder();
        var failed = 0;
        Span<int> raised = stackalloc int[16];
        for (var i = 0; i < count; i++)
        {
            var q = requests[i];
            var a = Parse(q.A);
            var b = Parse(q.B);
            var (r1, r2, status) = simulate(q.ControlWord, a, b);
            var expected = responses[i];
            var expectedStatus = (ushort)(expected.StatusWord & statusMask);
            for (var bit = 0; bit < 16; bit++)
                raised[bit] += (expectedStatus >> bit) & 1;
            status &= statusMask;
            if (r1 == expected.Result1 && r2 == expected.Result2 && status == expectedStatus)
                continue;
            if (failed++ < 25)
                failures.AppendLine($"{q}: x87 {expected.Result1} {expected.Result2} sw {expectedStatus:X4}, sim {r1} {r2} sw {status:X4}");
        }
        TestContext.WriteLine($"{op}: {count - failed} of {count} cases match the host x87; cases the x87 flagged: " +
            $"IE {raised[0]}, DE {raised[1]}, ZE {raised[2]}, OE {raised[3]}, UE {raised[4]}, PE {raised[5]}, " +
            $"C0 {raised[8]}, C1 {raised[9]}, C2 {raised[10]}, C3 {raised[14]}");
        if (failed > 0)
            Assert.Fail($"{op}: {failed} of {count} cases differ from the host x87:\n{failures}");
    }

    private static ExtendedReal Parse(string hex) =>
        new(Convert.ToUInt16(hex[..4], 16), Convert.ToUInt64(hex[4..], 16));
}
