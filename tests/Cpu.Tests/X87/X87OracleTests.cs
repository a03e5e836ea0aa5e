using System.Text;
using Sim.Cpu.X87;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// The soft-float against the host's x87, bit for bit: results, the six exception flags and the condition codes each
/// operation defines. Every exception is masked in these requests.
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
    [TestMethod] public void Multiply() => Check("mul", 3, Binary(BasicArithmetic.Multiply));
    [TestMethod] public void Divide() => Check("div", 4, Binary(BasicArithmetic.Divide));
    [TestMethod] public void SquareRoot() => Check("sqrt", 5, Binary((a, _, cw) => BasicArithmetic.SquareRoot(a, cw)), unary: true);

    private static Simulation Binary(Func<ExtendedReal, ExtendedReal, FpuControlWord, FpuResult> op) => (cw, a, b) =>
    {
        var r = op(a, b, new FpuControlWord(cw));
        return (r.Value.ToString(), Zero80, Status(r));
    };

    private const string Zero80 = "00000000000000000000";

    private static ushort Status(FpuResult r) => (ushort)((ushort)r.Exceptions | (r.RoundedUp ? C1 : 0));

    private void Check(string op, ulong seed, Simulation simulate, int count = 20000, bool unary = false, ushort statusMask = Flags | C1,
        Func<OperandGenerator, ExtendedReal>? first = null, Func<OperandGenerator, ExtendedReal, ExtendedReal>? second = null)
    {
        var gen = new OperandGenerator(seed * 0x1000193);
        var requests = new List<X87Oracle.Request>(count);
        for (var i = 0; i < count; i++)
        {
            var a = first?.Invoke(gen) ?? gen.Any();
            var b = unary ? ExtendedReal.PositiveZero : second?.Invoke(gen, a) ?? gen.Related(a);
            requests.Add(new(op, gen.ControlWord(), a.ToString(), b.ToString()));
        }
        var responses = X87Oracle.Run(requests);
        var failures = new StringBuilder();
        var failed = 0;
        for (var i = 0; i < count; i++)
        {
            var q = requests[i];
            var a = Parse(q.A);
            var b = Parse(q.B);
            var (r1, r2, status) = simulate(q.ControlWord, a, b);
            var expected = responses[i];
            var expectedStatus = (ushort)(expected.StatusWord & statusMask);
            status &= statusMask;
            if (r1 == expected.Result1 && r2 == expected.Result2 && status == expectedStatus)
                continue;
            if (failed++ < 25)
                failures.AppendLine($"{q}: x87 {expected.Result1} {expected.Result2} sw {expectedStatus:X4}, sim {r1} {r2} sw {status:X4}");
        }
        TestContext.WriteLine($"{op}: {count - failed} of {count} cases match the host x87");
        if (failed > 0)
            Assert.Fail($"{op}: {failed} of {count} cases differ from the host x87:\n{failures}");
    }

    private static ExtendedReal Parse(string hex) =>
        new(Convert.ToUInt16(hex[..4], 16), Convert.ToUInt64(hex[4..], 16));
}
