using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>
/// Alignment checking (SDM vol. 3, 6.15 "Interrupt 17—Alignment Check Exception"; vol. 1, 3.4.3.3):
/// with CR0.AM and EFLAGS.AC set, a CPL-3 data access whose address is not a multiple of its size
/// raises #AC(0). While it is in force the user read and write TLB arrays in use are ones that never
/// hold an entry, so that every CPL-3 access reaches the slow path, which checks; implicit
/// supervisor accesses (descriptor tables, TSS, frames on a more privileged stack) are never checked.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>CPL 3 with CR0.AM and EFLAGS.AC set.</summary>
    private bool _alignmentCheck;

    /// <summary>Recomputes whether alignment checking is in force and selects the TLB arrays that follow from it.</summary>
    private void UpdateAlignmentCheck()
    {
        var check = Cpl == 3 && (Cr0 & Registers.Cr0.AM) != 0 && (_flags & Rflags.AC) != 0;
        _alignmentCheck = check;
        _tlbRead = check ? Tlb.Unfilled : Tlb.Read;
        _tlbWrite = check ? Tlb.Unfilled : Tlb.Write;
    }

    /// <summary>Whether an access of 2, 4 or 8 bytes lies off its natural boundary (bytes are always aligned).</summary>
    private static bool Misaligned(ulong linear, int size) =>
        size is 2 or 4 or 8 && (linear & (ulong)(size - 1)) != 0;
}
