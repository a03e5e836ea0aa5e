namespace Sim.Differential.Tests;

/// <summary>Compares sim's and QEMU's records of a case, ignoring what the SDM leaves undefined.</summary>
public static class RecordComparer
{
    private static readonly string[] Names32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
    private static readonly string[] Names64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

    public static string RegisterName(GuestMode mode, int r) => mode == GuestMode.Long64 ? Names64[r] : Names32[r];

    public static List<Divergence> Compare(TestCase c, CaseRecord sim, CaseRecord qemu)
    {
        var list = new List<Divergence>();
        if (sim.Vector != qemu.Vector)
        {
            list.Add(new(c, $"vector (faulting rip sim={sim.FaultRip:x} qemu={qemu.FaultRip:x})", (ulong)(long)sim.Vector, (ulong)(long)qemu.Vector));
            return list;
        }
        var mask = c.Masks[^1];
        if (qemu.Vector >= 0)
        {
            if (GuestBuilder.HasErrorCode(qemu.Vector) && c.Mode != GuestMode.Real16 && sim.ErrorCode != qemu.ErrorCode)
                list.Add(new(c, "error code", sim.ErrorCode, qemu.ErrorCode));
            if (sim.FaultRip != qemu.FaultRip)
            {
                list.Add(new(c, "faulting rip", sim.FaultRip, qemu.FaultRip));
                return list;
            }
            if (qemu.Vector == 14 && sim.Cr2 != qemu.Cr2) list.Add(new(c, "cr2", sim.Cr2, qemu.Cr2));
            var k = Array.IndexOf(c.StepAddresses, qemu.FaultRip);
            if (k >= 0) mask = c.Masks[k];
        }
        var flags = (sim.Flags ^ qemu.Flags) & mask.DefinedFlags;
        if (flags != 0) list.Add(new(c, $"flags ({Eflags.Describe((uint)flags)})", sim.Flags, qemu.Flags));
        for (var r = 0; r < c.Mode.RegisterCount(); r++)
            if ((mask.UndefinedRegisters & (1 << r)) == 0 && sim.Registers[r] != qemu.Registers[r])
                list.Add(new(c, RegisterName(c.Mode, r), sim.Registers[r], qemu.Registers[r]));
        if (!mask.ScratchUndefined && sim.ScratchChecksum != qemu.ScratchChecksum)
            list.Add(new(c, "memory checksum", sim.ScratchChecksum, qemu.ScratchChecksum));
        return list;
    }
}
