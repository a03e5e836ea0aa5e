namespace Sim.Vmx.Tests;

/// <summary>The bits of the exit qualification for EPT violations (SDM vol. 3, table 28-7), for building expectations.</summary>
internal static class EptQualification
{
    public const ulong DataRead = 1UL << 0;
    public const ulong DataWrite = 1UL << 1;
    public const ulong InstructionFetch = 1UL << 2;
    public const ulong Readable = 1UL << 3;
    public const ulong Writable = 1UL << 4;
    public const ulong Executable = 1UL << 5;
    public const ulong LinearValid = 1UL << 7;
    public const ulong FinalTranslation = 1UL << 8;
    public const ulong UserModeLinear = 1UL << 9;
    public const ulong WritableLinear = 1UL << 10;
    public const ulong ExecuteDisableLinear = 1UL << 11;

    /// <summary>The EPT permissions bits 2:0 as they appear in qualification bits 5:3.</summary>
    public static ulong Rights(ulong permissions) => permissions << 3;

    /// <summary>Bits 7-11 for the final translation of a linear address while guest paging is off: user-mode, read/write, executable.</summary>
    public const ulong FinalWithPagingOff = LinearValid | FinalTranslation | UserModeLinear | WritableLinear;
}
