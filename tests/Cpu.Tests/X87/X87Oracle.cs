using System.Runtime.InteropServices;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// The host's real x87, reached through oracle/x87oracle.c (a <see cref="HostProgram"/>).
/// </summary>
internal static class X87Oracle
{
    private static readonly HostProgram Program = new("the x87 oracle", Path.Combine("X87", "oracle", "x87oracle.c"), "an x86 host with a real x87", Architecture.X64, Architecture.X86);

    public readonly record struct Request(string Op, ushort ControlWord, string A, string B)
    {
        public override string ToString() => $"{Op} {ControlWord:X3} {A} {B}";
    }

    public readonly record struct Response(string Result1, string Result2, ushort StatusWord);

    public static Response[] Run(IReadOnlyList<Request> requests)
    {
        var lines = Program.Exchange(requests.Select(r => r.ToString()));
        Assert.AreEqual(requests.Count, lines.Length, "the x87 oracle answered a different number of requests");
        var responses = new Response[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            Assert.AreEqual(3, parts.Length, $"the x87 oracle rejected request '{requests[i]}': {lines[i]}");
            responses[i] = new(parts[0], parts[1], Convert.ToUInt16(parts[2], 16));
        }
        return responses;
    }

    /// <summary>What the host left after running one sequence: where its code and data were, the data, and for a sequence that took #MF the faulting RIP and the FXSAVE image of the fault.</summary>
    public readonly record struct SequenceResult(ulong CodeAddress, ulong DataAddress, byte[] Data, ulong? FaultRip, byte[]? FaultState);

    /// <summary>Runs machine code on the host, each with RDI pointing to a copy of its data (the oracle's "sequence" mode).</summary>
    public static SequenceResult[] RunSequences(IReadOnlyList<(byte[] Code, byte[] Data)> sequences)
    {
        var lines = Program.Exchange(sequences.Select(s => Convert.ToHexString(s.Code) + " " + Convert.ToHexString(s.Data)), "sequence");
        Assert.AreEqual(sequences.Count, lines.Length, "the x87 oracle answered a different number of sequences");
        var results = new SequenceResult[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            Assert.AreEqual(4, parts.Length, $"the x87 oracle rejected sequence {i}: {lines[i]}");
            var fault = parts[3] == "-" ? null : parts[3].Split(':');
            results[i] = new(Convert.ToUInt64(parts[0], 16), Convert.ToUInt64(parts[1], 16), Convert.FromHexString(parts[2]),
                fault == null ? null : Convert.ToUInt64(fault[0], 16), fault == null ? null : Convert.FromHexString(fault[1]));
        }
        return results;
    }
}
