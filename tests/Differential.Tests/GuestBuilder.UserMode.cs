using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

public static partial class GuestBuilder
{
    /// <summary>
    /// Each case of a user-mode guest starts with CR0.AM set (alignment checks then depend on
    /// EFLAGS.AC and CPL 3 alone) and ring-0 data segments: an IRET to CPL 3 leaves DS and ES as the
    /// case set them and nulls the others, and an exception from CPL 3 comes back with them so.
    /// </summary>
    private static void EmitUserModeReset(Iced.Intel.Assembler a)
    {
        a.mov(eax, cr0);
        a.or(eax, 0x40000);
        a.mov(cr0, eax);
        a.mov(ax, DataLayout.Data32Selector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(fs, ax);
        a.mov(ax, DataLayout.Data16Selector);
        a.mov(gs, ax);
    }
}
