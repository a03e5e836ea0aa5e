namespace Sim.Differential.Tests;

/// <summary>Compares sim's and a reference emulator's records of a case, ignoring what the SDM leaves undefined.</summary>
public static class RecordComparer
{
    private static readonly string[] Names32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
    private static readonly string[] Names64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

    public static string RegisterName(GuestMode mode, int r) => mode == GuestMode.Long64 ? Names64[r] : Names32[r];

    public static List<Divergence> Compare(TestCase c, CaseRecord sim, CaseRecord reference, Oracle oracle = Oracle.Qemu)
    {
        var list = new List<Divergence>();
        if (sim.Vector != reference.Vector)
        {
            list.Add(new(c, $"vector (faulting rip sim={sim.FaultRip:x} {oracle.ToString().ToLowerInvariant()}={reference.FaultRip:x})", (ulong)(long)sim.Vector, (ulong)(long)reference.Vector, oracle));
            return list;
        }
        var mask = c.Masks[^1];
        if (reference.Vector >= 0)
        {
            if (GuestBuilder.HasErrorCode(reference.Vector) && c.Mode != GuestMode.Real16 && sim.ErrorCode != reference.ErrorCode)
                list.Add(new(c, "error code", sim.ErrorCode, reference.ErrorCode, oracle));
            if (sim.FaultRip != reference.FaultRip)
            {
                list.Add(new(c, "faulting rip", sim.FaultRip, reference.FaultRip, oracle));
                return list;
            }
            if (reference.Vector == 14 && sim.Cr2 != reference.Cr2) list.Add(new(c, "cr2", sim.Cr2, reference.Cr2, oracle));
            var k = Array.IndexOf(c.StepAddresses, reference.FaultRip);
            if (k >= 0) mask = c.Masks[k];
        }
        var flags = (sim.Flags ^ reference.Flags) & mask.DefinedFlags;
        if (flags != 0) list.Add(new(c, $"flags ({Eflags.Describe((uint)flags)})", sim.Flags, reference.Flags, oracle));
        for (var r = 0; r < c.Mode.RegisterCount(); r++)
            if ((mask.UndefinedRegisters & (1 << r)) == 0 && sim.Registers[r] != reference.Registers[r])
                list.Add(new(c, RegisterName(c.Mode, r), sim.Registers[r], reference.Registers[r], oracle));
        if (!mask.ScratchUndefined && sim.ScratchChecksum != reference.ScratchChecksum)
            list.Add(new(c, "memory checksum", sim.ScratchChecksum, reference.ScratchChecksum, oracle));
        return list;
    }
}
