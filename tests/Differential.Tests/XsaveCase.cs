namespace Sim.Differential.Tests;

/// <summary>The save instruction of an <see cref="XsaveCase"/>.</summary>
public enum XsaveForm
{
    Xsave64,
    /// <summary>XSAVE without REX.W: the 32-bit x87 format (FIP/FDP 32 bits with FCS/FDS), restored by XRSTOR without REX.W.</summary>
    Xsave,
    Xsaveopt64,
    /// <summary>XSAVEC64 with the compacted XRSTOR64 after it (Bochs only: QEMU 7.2's TCG has no compaction).</summary>
    Xsavec64,
    /// <summary>XSAVES64 with XRSTORS64 after it (Bochs only), at CPL 0 with IA32_XSS = 0.</summary>
    Xsaves64,
}

/// <summary>What a case does between its first XRSTOR and its save: nothing, or one instruction that changes a component.</summary>
public enum XsaveStep
{
    None,
    /// <summary>PXOR of one XMM register with itself (it may put SSE state back in its initial configuration).</summary>
    ZeroXmm,
    /// <summary>MOVD XMM0, EAX with EAX = 1.</summary>
    WriteXmm0,
    /// <summary>FFREE ST7, FLD1.</summary>
    Fld1,
    /// <summary>FNINIT: FCW 037FH, FSW 0, tags empty, pointers 0 (the data registers stay).</summary>
    Fninit,
}

/// <summary>
/// One differential XSAVE case (64-bit or 32-bit mode, XCR0 = 7): FXRSTOR and XRSTOR (the REX.W forms in 64-bit mode) of <see cref="Image"/> (standard form) with
/// <see cref="RestoreMask"/>, the <see cref="Step"/>, XGETBV(1), the save of <see cref="Form"/> with <see cref="SaveMask"/>
/// into <see cref="SaveArea"/> (pre-filled), XRSTOR (XRSTORS after XSAVES) of that area with <see cref="SecondMask"/> (a subset of the save's mask,
/// so that only saved or initialized components are read), XGETBV(1), and an XSAVE of everything as the report.
/// </summary>
public sealed class XsaveCase
{
    public const int AreaBytes = 832;

    public required int Index { get; init; }
    public required byte[] Image { get; init; }
    public required byte[] SaveArea { get; init; }
    public required ulong RestoreMask { get; init; }
    public required XsaveStep Step { get; init; }
    public required int StepRegister { get; init; }
    public required XsaveForm Form { get; init; }
    public required ulong SaveMask { get; init; }
    public required ulong SecondMask { get; init; }

    public ulong ImageXstateBv => BitConverter.ToUInt64(Image, 512);

    public string Describe() =>
        $"case {Index}: XRSTOR64 mask {RestoreMask} (XSTATE_BV {ImageXstateBv}), {Step}{(Step == XsaveStep.ZeroXmm ? $" xmm{StepRegister}" : "")}, "
        + $"{Form} mask {SaveMask} (old XSTATE_BV {BitConverter.ToUInt64(SaveArea, 512)}), XRSTOR mask {SecondMask}; "
        + $"image mxcsr={BitConverter.ToUInt32(Image, 24):x} fcw={BitConverter.ToUInt16(Image, 0):x} xmm0={BitConverter.ToUInt64(Image, 160):x}";
}
