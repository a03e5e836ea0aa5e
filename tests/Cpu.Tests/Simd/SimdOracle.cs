using System.Globalization;
using System.Runtime.InteropServices;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// The host's FMA3 and F16C instructions, reached through oracle/simdoracle.c (a <see cref="HostProgram"/>).
/// </summary>
internal static class SimdOracle
{
    private static readonly HostProgram Program = new("the SIMD oracle", Path.Combine("Simd", "oracle", "simdoracle.c"), "an x86-64 host with FMA and F16C", Architecture.X64);

    /// <summary>One instruction: <paramref name="A"/> the destination (first source), <paramref name="B"/> the VEX.vvvv source (or the conversion's source), <paramref name="C"/> the r/m source.</summary>
    public readonly record struct Request(string Instruction, uint Mxcsr, ulong A, ulong B, ulong C)
    {
        public override string ToString() => $"{Instruction} {Mxcsr:x} {A:x} {B:x} {C:x}";
    }

    public readonly record struct Response(ulong Result, uint Mxcsr);

    public static Response[] Run(IReadOnlyList<Request> requests)
    {
        var lines = Program.Exchange(requests.Select(r => r.ToString()));
        Assert.AreEqual(requests.Count, lines.Length, "the SIMD oracle answered a different number of requests");
        var responses = new Response[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            Assert.AreEqual(2, parts.Length, $"the SIMD oracle rejected request '{requests[i]}': {lines[i]}");
            responses[i] = new(ulong.Parse(parts[0], NumberStyles.HexNumber), uint.Parse(parts[1], NumberStyles.HexNumber));
        }
        return responses;
    }
}
