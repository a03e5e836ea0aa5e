using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Sim.Cpu;

/// <summary>
/// PDEP and PEXT (SDM vol. 2B): the host's BMI2 instructions when it has them, else a loop over the mask's set bits.
/// Both forms give the same result for every input (the tests compare them).
/// </summary>
internal static class ParallelBits
{
    /// <summary>PDEP: the low bits of <paramref name="source"/> go, in order, to the set bit positions of <paramref name="mask"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Deposit(ulong source, ulong mask) =>
        Bmi2.X64.IsSupported ? Bmi2.X64.ParallelBitDeposit(source, mask) : DepositPortable(source, mask);

    /// <summary>PEXT: the bits of <paramref name="source"/> at the set positions of <paramref name="mask"/>, packed into the low bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Extract(ulong source, ulong mask) =>
        Bmi2.X64.IsSupported ? Bmi2.X64.ParallelBitExtract(source, mask) : ExtractPortable(source, mask);

    /// <summary>The SDM's PDEP operation, one iteration per set bit of the mask.</summary>
    public static ulong DepositPortable(ulong source, ulong mask)
    {
        ulong result = 0;
        for (ulong k = 1; mask != 0; k <<= 1)
        {
            var lowest = mask & (0 - mask);
            if ((source & k) != 0) result |= lowest;
            mask ^= lowest;
        }
        return result;
    }

    /// <summary>The SDM's PEXT operation, one iteration per set bit of the mask.</summary>
    public static ulong ExtractPortable(ulong source, ulong mask)
    {
        ulong result = 0;
        for (ulong k = 1; mask != 0; k <<= 1)
        {
            var lowest = mask & (0 - mask);
            if ((source & lowest) != 0) result |= k;
            mask ^= lowest;
        }
        return result;
    }
}
