using Sim.Cpu.Simd;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// The F16C conversions against the host's VCVTPH2PS and VCVTPS2PH, bit for bit: every half, and singles around the
/// half range under each imm8 rounding control (and imm8[2] = MXCSR.RC), with DAZ and FTZ on and off, exceptions masked.
/// </summary>
[TestClass]
public sealed class HalfPrecisionOracleTests
{
    [TestMethod]
    public void EveryHalfToSingle()
    {
        var g = new FloatOperandGenerator(21);
        var requests = new List<SimdOracle.Request>(65536);
        for (var h = 0; h < 65536; h++)
            requests.Add(new("vcvtph2ps", g.MaskedMxcsr(), 0, (ulong)h, 0));
        Compare(requests, r =>
        {
            uint flags = 0;
            var result = SimdFloat.HalfToSingle((ushort)r.B, ref flags);
            return (result, r.Mxcsr | flags);
        });
    }

    [TestMethod]
    public void SingleToHalfUnderEveryRoundingControl()
    {
        var g = new FloatOperandGenerator(22);
        var requests = new List<SimdOracle.Request>(60000);
        for (var i = 0; i < 60000; i++)
        {
            var s = g.Next(10) switch
            {
                0 => g.Any(false),
                1 => g.Special(false),
                2 => g.Denormal(false),
                // The half's own edges: around its largest finite value and its denormal range.
                3 => g.Normal(127 + 14 + g.Next(3), false),
                4 => g.Normal(127 - 26 + g.Next(14), false),
                _ => g.Normal(127 - 16 + g.Next(33), false),
            };
            requests.Add(new($"vcvtps2ph{g.Next(9)}", g.MaskedMxcsr(), 0, s, 0));
        }
        Compare(requests, r =>
        {
            uint flags = 0;
            var result = SimdFloat.SingleToHalf((uint)r.B, byte.Parse(r.Instruction[^1..]), r.Mxcsr, ref flags);
            return (result, r.Mxcsr | flags);
        });
    }

    private static void Compare(List<SimdOracle.Request> requests, Func<SimdOracle.Request, (ulong Result, uint Mxcsr)> simulate)
    {
        var responses = SimdOracle.Run(requests);
        var failures = new List<string>();
        for (var i = 0; i < requests.Count; i++)
        {
            var (result, mxcsr) = simulate(requests[i]);
            if (result != responses[i].Result || mxcsr != responses[i].Mxcsr)
                failures.Add($"{requests[i]}: sim {result:x} {mxcsr:x}, host {responses[i].Result:x} {responses[i].Mxcsr:x}");
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} of {requests.Count} differ:\n{string.Join('\n', failures.Take(40))}");
    }
}
