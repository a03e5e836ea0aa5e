using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

public static partial class GuestBuilder
{
    /// <summary>
    /// Far jump from 64-bit code to <paramref name="target"/> in the compatibility-mode code segment:
    /// the flat 32-bit code descriptor (L=0, D=1) is one once EFER.LMA is set. Through an
    /// m16:32 pointer because the m16:64 form is Intel-only.
    /// </summary>
    private static void EmitFarJumpToCompat(Assembler a, ulong target)
    {
        const ulong pointer = DataLayout.DataBase + DataLayout.FarPointer;
        a.mov(__dword_ptr[pointer], (uint)target);
        a.mov(__word_ptr[pointer + 4], DataLayout.Code32Selector);
        a.jmp(__fword_ptr[pointer]);
    }

    /// <summary>
    /// The 64-bit exception handlers of a compatibility-mode guest, at <paramref name="address"/>:
    /// per-vector stubs that note the vector, then the handler that takes the 64-bit frame apart into
    /// the 32-bit record and goes back to compatibility mode at <paramref name="emit"/>.
    /// </summary>
    private static byte[] AssembleCompatHandlers(ulong address, ulong emit, out ulong[] vectorAddresses)
    {
        const int slot = 4, vectorSlot = 1, errorSlot = 2, ripSlot = 3, flagsSlot = 5, regSlot = 7;
        static AssemblerMemoryOperand S(int i) => __dword_ptr[(ulong)(DataLayout.DataBase + DataLayout.Record + i * slot)];
        // A qword pop into a dword slot also writes the next slot; each such neighbour is written afterwards
        // (RIP over CR2's slot, RFLAGS over the checksum's, RSP over EBP's, the error code over RIP's).
        static AssemblerMemoryOperand Q(int i) => __qword_ptr[(ulong)(DataLayout.DataBase + DataLayout.Record + i * slot)];
        const ulong temp = DataLayout.DataBase + DataLayout.Temp;

        var a = new Assembler(64);
        var vectorLabels = new Label[32];
        var common = a.CreateLabel();
        var withError = a.CreateLabel();
        for (var v = 0; v < 32; v++)
        {
            vectorLabels[v] = a.CreateLabel();
            a.Label(ref vectorLabels[v]);
            a.mov(S(vectorSlot), v);
            a.mov(S(errorSlot), 0);
            a.jmp(HasErrorCode(v) ? withError : common);
        }

        a.Label(ref withError);
        a.pop(Q(errorSlot));
        a.Label(ref common);
        a.pop(Q(ripSlot));
        a.pop(__qword_ptr[temp]);
        a.pop(Q(flagsSlot));
        a.pop(Q(regSlot + 4));
        a.pop(__qword_ptr[temp]);
        for (var r = 0; r < 8; r++)
            if (r != 4) a.mov(S(regSlot + r), Legacy[r]);
        // The frame went below the interrupted ESP (aligned down to 16 bytes first); clear it as the other modes do.
        a.mov(edi, S(regSlot + 4));
        a.sub(rdi, 64);
        a.mov(ecx, 16);
        a.xor(eax, eax);
        a.cld();
        a.rep.stosd();
        EmitFarJumpToCompat(a, emit);

        var stream = new MemoryStream();
        var result = a.Assemble(new StreamCodeWriter(stream), address, BlockEncoderOptions.ReturnNewInstructionOffsets);
        vectorAddresses = vectorLabels.Select(l => result.GetLabelRIP(l)).ToArray();
        return stream.ToArray();
    }
}
