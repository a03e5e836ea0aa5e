using CsCheck;

namespace Sim.Differential.Tests;

/// <summary>
/// A field the generated cases change: where it is (<see cref="ProbeWrite.Target"/>, <see cref="ProbeWrite.Size"/>),
/// its value in the probe's valid baseline, and the values a case writes to it (random, bit flips of the baseline, edge values).
/// Shrinking simplifies a value only where <see cref="ShrinkValues"/>: the fields restricted to values the probe survives keep theirs.
/// </summary>
public sealed record ProbeMutation(string Name, uint Target, int Size, ulong Baseline, Gen<ulong> Values, bool ShrinkValues = true)
{
    public ProbeWrite Write(ulong value) => new(Target, Size, value, Name);

    /// <summary>Values for a field: bit flips of the baseline within [<paramref name="low"/>, <paramref name="high"/>], the edge values, and random values of <paramref name="bits"/> bits.</summary>
    public static Gen<ulong> Mixed(ulong baseline, int low, int high, int bits, params ulong[] edges)
    {
        var flips = Gen.Int[low, high].Select(b => baseline ^ (1UL << b));
        var random = bits == 64 ? Gen.ULong : Gen.ULong.Select(v => v & ((1UL << bits) - 1));
        return edges.Length == 0
            ? Gen.Frequency((3, flips), (1, random))
            : Gen.Frequency((3, flips), (2, Gen.OneOfConst(edges)), (1, random));
    }

    /// <summary>Only the given values: for fields whose other values would take the probe's host astray.</summary>
    public static Gen<ulong> Only(params ulong[] values) => Gen.OneOfConst(values);
}
