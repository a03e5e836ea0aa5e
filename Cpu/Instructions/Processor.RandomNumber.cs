using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>
/// RDRAND and RDSEED (SDM vol. 1, 7.3.17; vol. 2): random numbers from a deterministic generator, so
/// that a run repeats exactly. Each processor draws from its own SplitMix64 sequence, seeded from
/// <see cref="RandomSeed"/> and its index at power-up; the entropy source never runs dry, so CF is
/// always 1 and the other status flags 0.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>The seed every processor's sequence starts from (with its index mixed in) at the next power-up.</summary>
    public ulong RandomSeed { get; set; } = 0x5EED_5EED_5EED_5EED;

    private ulong _randomState;

    private void ResetRandomNumbers() => _randomState = RandomSeed ^ ((ulong)Index * 0xD1B5_4A32_D192_ED03);

    private ulong NextRandom()
    {
        var z = _randomState += 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }

    private bool ReadRandomNumber(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, op.Sub == 0 ? InterceptKind.Rdrand : InterceptKind.Rdseed)) return _hookRetired;
        SetReg(op.R, op.Size, NextRandom());
        SetStatusFlags(Rflags.Status, Rflags.CF);
        return Next(ref op);
    }
}
