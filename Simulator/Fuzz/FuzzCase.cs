namespace Sim.Fuzz;

/// <summary>One case: the seed of the run, its kind and its index; together they determine every byte of it.</summary>
public readonly record struct FuzzCase(ulong Seed, FuzzKind Kind, int Index)
{
    /// <summary>The kinds in the order that a run over all kinds cycles through them.</summary>
    public static IReadOnlyList<FuzzKind> AllKinds { get; } = Enum.GetValues<FuzzKind>();

    /// <summary>Case <paramref name="index"/> of a run over all kinds, or of one kind.</summary>
    public static FuzzCase Of(ulong seed, int index, FuzzKind? kind) =>
        new(seed, kind ?? AllKinds[index % AllKinds.Count], index);

    /// <summary>A generator seeded from the case alone (SplitMix64 over seed, kind and index; no process-randomized hashing).</summary>
    public Random CreateRandom()
    {
        var x = Mix(Seed ^ 0x9E37_79B9_7F4A_7C15UL);
        x = Mix(x ^ (ulong)Kind);
        x = Mix(x ^ (uint)Index);
        return new Random((int)(x ^ (x >> 32)));
    }

    /// <summary>The command that runs this case alone.</summary>
    public string Reproduce => $"sim fuzz --seed {Seed} --kind {Kind} --case {Index}";

    public override string ToString() => $"{Kind} #{Index} (seed {Seed})";

    private static ulong Mix(ulong z)
    {
        z += 0x9E37_79B9_7F4A_7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }
}
