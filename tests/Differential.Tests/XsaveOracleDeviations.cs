namespace Sim.Differential.Tests;

/// <summary>
/// Where the oracles' XSAVE records may differ from sim's within the SDM's latitude or leave it, with the manual's rule.
/// The init optimization is the main one: XINUSE[i] may be 1 for a component in its initial configuration (SDM vol. 1,
/// 13.6), so XGETBV(1), XSTATE_BV and what XSAVEOPT/XSAVEC write for such a component are implementation-specific.
/// </summary>
public static class XsaveOracleDeviations
{
    public const string QemuXinuse =
        "QEMU 7.2 does not track XINUSE and reports every component in use (XGETBV(1) = XCR0; XSAVE and XSAVEOPT write XSTATE_BV[i] = 1 "
        + "and XSAVEOPT saves the component); sim reports a component not in use when it is in its initial configuration and no XRSTOR loaded it. "
        + "The SDM (vol. 1, 13.6) allows XINUSE[i] = 1 in the initial configuration, and XINUSE[i] = 0 only there: both are within it";

    public const string BochsXinuse =
        "Bochs 2.7 recomputes XINUSE from the register values at each use: a component XRSTOR loaded with initial values counts as not in use, "
        + "where the SDM (vol. 1, 13.8.3) sets XINUSE[i] to 1 after XRSTOR with RFBM[i] = XSTATE_BV[i] = 1, as sim does; and it counts SSE in use "
        + "whenever MXCSR ≠ 1F80H, where XINUSE[1] pertains to the XMM registers only (13.7) — permitted, since the XMM registers are then in "
        + "their initial configuration";

    public const string BochsXsavecAvxOffset =
        "Bochs 2.7's XSAVEC and XSAVES store the AVX state right after the XMM registers, at byte 416, and so over the XSAVE header, while its compacted XRSTOR "
        + "reads it at 576 as the SDM's compacted format has it (vol. 1, 13.4.3: the first extended component follows the 64-byte header); "
        + "XSAVEC and XSAVES cases run on Bochs without AVX in their mask, and AVX's compacted offset is checked by the unit tests";

    public const string BochsXsavecMxcsr =
        "Bochs 2.7's XSAVEC and XSAVES write MXCSR and MXCSR_MASK whenever RFBM[1] = 1; the SDM (vol. 2, XSAVEC and XSAVES Operation) stores them as part of SSE state, "
        + "only when SSE state is saved (XINUSE[1] = 1 or MXCSR ≠ 1F80H)";

    public const string BochsFcsFdsDeprecation =
        "Bochs's corei7_skylake_x model deprecates FCS and FDS (CPUID.(EAX=07H,ECX=0):EBX[13] = 1) and saves them as 0000H in the 32-bit x87 format; "
        + "sim does not announce the deprecation and saves the selectors, as the SDM (vol. 1, 13.5.1) has it for that CPUID value";

    public const string X87Format32Reserved =
        "In the 32-bit x87 format (XSAVE without REX.W) bytes 15:14 and 23:22 are not used (SDM vol. 1, 13.5.1); Bochs writes zeros there, "
        + "sim leaves them, so they are not compared";

    public const string QemuMxcsrWithAvx =
        "QEMU 7.2's XSAVE, XSAVEOPT and XRSTOR store and load MXCSR only with SSE state (RFBM[1]); the SDM's standard form (vol. 1, 13.7, 13.8.1; "
        + "vol. 2, XSAVE and XRSTOR Operation) stores and loads MXCSR and MXCSR_MASK when RFBM[1] = 1 or RFBM[2] = 1, so with AVX alone too";

    public const string QemuX87Pointers =
        "QEMU 7.2 keeps no x87 FIP/FDP (it stores zeros in bytes 23:8 of the legacy region) and does not clear FOP when XRSTOR initializes the x87 state; "
        + "the SDM (vol. 1, 13.5.1, 13.6) saves them and initializes all three to 0: bytes 23:6 are not compared with QEMU";
}
