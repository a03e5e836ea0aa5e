using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

/// <summary>
/// The real-mode code an application processor runs after its startup IPI (SDM vol. 3, 9.4.4): it starts
/// at CS = vector &lt;&lt; 8, IP = 0, loads the GDT the payload's prologue built, sets CR0.PE and far-jumps to
/// the 32-bit code segment. The jump's offset is patched in at run time (<see cref="TargetOffset"/>),
/// because the 32-bit AP entry lies in the payload, assembled after this code.
/// </summary>
internal static class SmpTrampoline
{
    /// <summary>Page-aligned below 1 MiB, as the SIPI vector (address &gt;&gt; 12) requires.</summary>
    public const uint Address = 0x8000;

    public const byte StartupVector = (byte)(Address >> 12);

    /// <summary>The trampoline's bytes; its code uses only DS-relative absolute addresses, so CS:IP = vector:0 runs it.</summary>
    public static byte[] Code()
    {
        var a = new Assembler(16);
        a.cli();
        a.xor(ax, ax);
        a.mov(ds, ax);
        a.lgdt(__[GuestLayout.GdtrAddress]);
        a.mov(eax, cr0);
        a.or(eax, 1);
        a.mov(cr0, eax);
        a.AddInstruction(Instruction.CreateBranch(Iced.Intel.Code.Jmp_ptr1632, GuestLayout.Code32Selector, 0));
        return GuestCode.Assemble(a, 0);
    }

    /// <summary>Where in <see cref="Code"/> the far jump's 32-bit offset lies: 66 EA, then offset, then selector.</summary>
    public static int TargetOffset => Code().Length - 6;
}
