using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>EFLAGS bit masks and the conversion from Iced's <see cref="RflagsBits"/>.</summary>
public static class Eflags
{
    public const uint CF = 1 << 0;
    public const uint PF = 1 << 2;
    public const uint AF = 1 << 4;
    public const uint ZF = 1 << 6;
    public const uint SF = 1 << 7;
    public const uint TF = 1 << 8;
    public const uint IF = 1 << 9;
    public const uint DF = 1 << 10;
    public const uint OF = 1 << 11;

    public const uint Status = CF | PF | AF | ZF | SF | OF;

    /// <summary>The flags the suite compares: the status flags and DF.</summary>
    public const uint Compared = Status | DF;

    public static uint FromIced(RflagsBits bits)
    {
        uint r = 0;
        if ((bits & RflagsBits.OF) != 0) r |= OF;
        if ((bits & RflagsBits.SF) != 0) r |= SF;
        if ((bits & RflagsBits.ZF) != 0) r |= ZF;
        if ((bits & RflagsBits.AF) != 0) r |= AF;
        if ((bits & RflagsBits.CF) != 0) r |= CF;
        if ((bits & RflagsBits.PF) != 0) r |= PF;
        if ((bits & RflagsBits.DF) != 0) r |= DF;
        return r;
    }

    public static string Describe(uint flags)
    {
        var names = new List<string>();
        foreach (var (bit, name) in new[] { (OF, "OF"), (DF, "DF"), (SF, "SF"), (ZF, "ZF"), (AF, "AF"), (PF, "PF"), (CF, "CF") })
            if ((flags & bit) != 0) names.Add(name);
        return names.Count == 0 ? "-" : string.Join(",", names);
    }
}
