namespace Sim.Cpu.Registers;

/// <summary>Fields of DR7, the debug control register (SDM vol. 3, 17.2.4).</summary>
public static class DebugControl
{
    /// <summary>L0–L3 and LE: the local enables, cleared by every task switch.</summary>
    public const ulong LocalEnables = 0x155;

    /// <summary>L0–L3 and G0–G3.</summary>
    public const ulong Enables = 0xFF;

    /// <summary>GD: general detect, a #DB before any MOV DR.</summary>
    public const ulong GD = 1UL << 13;

    /// <summary>Bit 10 reads as 1; bits 11, 12, 14, 15 and 32–63 as 0.</summary>
    public const ulong ReadAsOne = 0x400;

    public const ulong Writable = 0xFFFF2BFF;

    /// <summary>R/W values: break on instruction execution, data writes, I/O (with CR4.DE), data reads or writes.</summary>
    public const int Execute = 0, Write = 1, Io = 2, ReadWrite = 3;

    /// <summary>Whether Ln or Gn enables breakpoint <paramref name="n"/>.</summary>
    public static bool Enabled(ulong dr7, int n) => ((dr7 >> (2 * n)) & 3) != 0;

    /// <summary>The R/W field of breakpoint <paramref name="n"/>.</summary>
    public static int Type(ulong dr7, int n) => (int)(dr7 >> (16 + 4 * n)) & 3;

    /// <summary>
    /// The address bits LENn ignores: 1, 2, 8 or 4 bytes for LEN 00b, 01b, 10b, 11b; the breakpoint
    /// covers its address aligned down to that length.
    /// </summary>
    public static ulong LengthMask(ulong dr7, int n) => ((dr7 >> (18 + 4 * n)) & 3) switch
    {
        0 => 0,
        1 => 1,
        2 => 7,
        _ => 3,
    };
}
