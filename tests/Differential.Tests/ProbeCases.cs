using CsCheck;

namespace Sim.Differential.Tests;

/// <summary>
/// The generated probe cases: each changes one to three distinct fields of the valid baseline (<see cref="ProbeMutation"/>),
/// drawn with CsCheck's generators from a seeded PCG, so that the same seed gives the same cases.
/// </summary>
public static class ProbeCases
{
    public static Gen<ProbeWrite[]> Generator(IReadOnlyList<ProbeMutation> mutations) =>
        Gen.Int[0, mutations.Count - 1].Array[1, 3].SelectMany(indices => Writes([.. indices.Distinct().Select(i => mutations[i])]));

    private static Gen<ProbeWrite[]> Writes(ProbeMutation[] chosen) => chosen.Length switch
    {
        1 => chosen[0].Values.Select(a => new[] { chosen[0].Write(a) }),
        2 => Gen.Select(chosen[0].Values, chosen[1].Values, (a, b) => new[] { chosen[0].Write(a), chosen[1].Write(b) }),
        _ => Gen.Select(chosen[0].Values, chosen[1].Values, chosen[2].Values, (a, b, c) => new[] { chosen[0].Write(a), chosen[1].Write(b), chosen[2].Write(c) }),
    };

    /// <summary><paramref name="count"/> cases from <paramref name="seed"/>.</summary>
    public static List<ProbeWrite[]> Sample(IReadOnlyList<ProbeMutation> mutations, ulong seed, int count)
    {
        var generator = Generator(mutations);
        var pcg = new PCG(1, seed);
        var cases = new List<ProbeWrite[]>(count);
        for (var i = 0; i < count; i++) cases.Add(generator.Generate(pcg, null, out _));
        return cases;
    }
}
