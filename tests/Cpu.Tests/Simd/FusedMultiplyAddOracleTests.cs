using Sim.Cpu.Simd;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// The software fused multiply-add against the host's VFMADD/VFMSUB/VFNMADD/VFNMSUB{132,213,231}{SS,SD}, bit for bit:
/// result and MXCSR flags under every rounding control with DAZ and FTZ on and off, exceptions masked.
/// </summary>
[TestClass]
public sealed class FusedMultiplyAddOracleTests
{
    private const int CasesPerWidth = 60000;

    private static readonly string[] Operations = ["vfmadd", "vfmsub", "vfnmadd", "vfnmsub"];
    private static readonly string[] Orders = ["132", "213", "231"];

    [TestMethod] public void ScalarSingle() => Check(false, 11);

    [TestMethod] public void ScalarDouble() => Check(true, 12);

    /// <summary>The SDM's operand roles (vol. 2, VFMADD132SS …): 132 is a × c + b, 213 is b × a + c, 231 is b × c + a.</summary>
    private static (ulong X, ulong Y, ulong Z) Roles(string order, ulong a, ulong b, ulong c) => order switch
    {
        "132" => (a, c, b),
        "213" => (b, a, c),
        _ => (b, c, a),
    };

    private static void Check(bool d, int seed)
    {
        var g = new FloatOperandGenerator(seed);
        var requests = new List<SimdOracle.Request>(CasesPerWidth);
        for (var i = 0; i < CasesPerWidth; i++)
        {
            var x = g.Any(d);
            var y = g.Chance(25) ? g.AimedMultiplier(x, d) : g.Any(d);
            var z = g.Chance(40) ? g.AimedAddend(x, y, d) : g.Any(d);
            var order = Orders[g.Next(3)];
            // Place x, y, z where the chosen order reads them, so that the aimed relations survive.
            var (a, b, c) = order switch
            {
                "132" => (x, z, y),
                "213" => (y, x, z),
                _ => (z, x, y),
            };
            var name = Operations[g.Next(4)] + order + (d ? "sd" : "ss");
            requests.Add(new(name, g.MaskedMxcsr(), a, b, c));
        }
        var responses = SimdOracle.Run(requests);
        var failures = new List<string>();
        for (var i = 0; i < requests.Count; i++)
        {
            var r = requests[i];
            var operation = r.Instruction[..^5];
            var (x, y, z) = Roles(r.Instruction[^5..^2], r.A, r.B, r.C);
            uint flags = 0;
            var result = SimdFloat.FusedMultiplyAdd(x, y, z, operation is "vfnmadd" or "vfnmsub", operation is "vfmsub" or "vfnmsub", d, r.Mxcsr, ref flags);
            var expected = responses[i];
            var hostResult = d ? expected.Result : expected.Result & 0xFFFF_FFFF;
            if (result != hostResult || (r.Mxcsr | flags) != expected.Mxcsr)
                failures.Add($"{r}: sim {result:x} {r.Mxcsr | flags:x}, host {hostResult:x} {expected.Mxcsr:x}");
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} of {requests.Count} differ:\n{string.Join('\n', failures.Take(40))}");
    }
}
