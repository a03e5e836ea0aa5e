namespace Sim.Cpu.Registers;

/// <summary>Bits of DR6, the debug status register (SDM vol. 3, 17.2.3).</summary>
public static class DebugStatus
{
    /// <summary>B0–B3: breakpoint condition n was met.</summary>
    public const ulong B0 = 1UL << 0;
    public const ulong B1 = 1UL << 1;
    public const ulong B2 = 1UL << 2;
    public const ulong B3 = 1UL << 3;
    public const ulong Breakpoints = B0 | B1 | B2 | B3;

    /// <summary>BD: the next instruction accesses a debug register while DR7.GD is set.</summary>
    public const ulong BD = 1UL << 13;

    /// <summary>BS: single step (RFLAGS.TF).</summary>
    public const ulong BS = 1UL << 14;

    /// <summary>BT: a task switch to a task whose TSS has the T flag set.</summary>
    public const ulong BT = 1UL << 15;

    /// <summary>The bits software can write; bits 4–11 and 16–31 read as 1 on a processor without RTM, bit 12 as 0.</summary>
    public const ulong Writable = Breakpoints | BD | BS | BT;

    public const ulong ReadAsOne = 0xFFFF0FF0;
}
