using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

public static partial class GuestBuilder
{
    /// <summary>Scratch offset of the #DB log: <see cref="DebugLogEntries"/> entries of DR6 (B0–B3 of enabled breakpoints), DR7, and EIP | (EFLAGS image &amp; TF) &lt;&lt; 14.</summary>
    public const uint DebugLog = 0x1C0;

    public const int DebugLogEntries = 5;

    /// <summary>Scratch offset of the count of #DBs the case took.</summary>
    public const uint DebugCount = DebugLog + DebugLogEntries * 12;

    /// <summary>More #DBs than any case takes: the handler then clears DR7 and TF so that a runaway case ends.</summary>
    private const int DebugLimit = 16;

    /// <summary>
    /// The #DB handler of a debug guest (32-bit protected mode): logs DR6, DR7, the return EIP and
    /// the image's TF; leaves all of DR6 in EBP and count | TF | RF | EIP[7:0] &lt;&lt; 24 in EDX (the image's
    /// RF, the processor's choice); returns with RF set exactly when an enabled instruction
    /// breakpoint matched, so the instruction runs (SDM vol. 3, 17.3.1.1); clears DR6, which the processor
    /// never clears; and resumes.
    /// </summary>
    private static void EmitDebugHandler(Assembler a, ref Label entry)
    {
        const uint temp = DataLayout.DataBase + DataLayout.Temp;
        const uint log = DataLayout.DataBase + DataLayout.Scratch + DebugLog;
        const uint count = DataLayout.DataBase + DataLayout.Scratch + DebugCount;
        var full = a.CreateLabel();
        a.Label(ref entry);
        a.mov(__dword_ptr[temp], eax);
        a.mov(eax, dr6);
        a.mov(ebp, eax);
        a.mov(edx, __dword_ptr[count]);
        a.cmp(edx, DebugLogEntries);
        a.jae(full);
        a.imul(edx, edx, 12);
        // The log keeps B0–B3 of enabled breakpoints only: those of disabled ones are the implementation's (SDM vol. 3, 17.2.3).
        a.mov(__dword_ptr[temp + 4], ecx);
        a.mov(ecx, dr7);
        for (var n = 0; n < 4; n++)
        {
            var enabled = a.CreateLabel();
            a.test(ecx, 3 << (2 * n));
            a.jnz(enabled);
            a.and(eax, ~(1 << n));
            a.Label(ref enabled);
        }
        a.mov(__dword_ptr[edx + log], eax);
        a.mov(__dword_ptr[edx + log + 4], ecx);
        a.mov(ecx, __dword_ptr[temp + 4]);
        a.mov(eax, __dword_ptr[esp + 8]);
        a.and(eax, 0x100);
        a.shl(eax, 14);
        a.or(eax, __dword_ptr[esp]);
        a.mov(__dword_ptr[edx + log + 8], eax);
        a.Label(ref full);
        a.inc(__dword_ptr[count]);
        a.mov(edx, __dword_ptr[esp]);
        a.shl(edx, 24);
        a.mov(eax, __dword_ptr[esp + 8]);
        a.and(eax, (int)(0x10000 | 0x100));
        a.or(edx, eax);
        a.or(edx, __dword_ptr[count]);
        // The saved RF goes to EDX only; the image returns with the handler's own choice, so that
        // the stale frame below ESP holds the same bytes whatever RF the processor saved.
        a.and(__dword_ptr[esp + 8], ~0x10000);
        a.mov(eax, dr7);
        for (var n = 0; n < 4; n++)
        {
            var skip = a.CreateLabel();
            a.test(ebp, 1 << n);
            a.jz(skip);
            a.test(eax, 3 << (2 * n));
            a.jz(skip);
            a.test(eax, 3 << (16 + 4 * n));
            a.jnz(skip);
            a.or(__dword_ptr[esp + 8], 0x10000);
            a.Label(ref skip);
        }
        var below = a.CreateLabel();
        a.cmp(__dword_ptr[count], DebugLimit);
        a.jb(below);
        a.xor(eax, eax);
        a.mov(dr7, eax);
        a.and(__dword_ptr[esp + 8], ~0x100);
        a.Label(ref below);
        a.xor(eax, eax);
        a.mov(dr6, eax);
        a.mov(eax, __dword_ptr[temp]);
        a.iretd();
    }

    /// <summary>Each case of a debug guest starts with no breakpoint, DR6 clear and CR4.DE = 0 (EAX is loaded afterwards).</summary>
    private static void EmitDebugReset(Assembler a)
    {
        a.xor(eax, eax);
        a.mov(dr7, eax);
        a.mov(dr6, eax);
        a.mov(dr0, eax);
        a.mov(dr1, eax);
        a.mov(dr2, eax);
        a.mov(dr3, eax);
        a.mov(eax, cr4);
        a.and(eax, ~8);
        a.mov(cr4, eax);
    }

    /// <summary>
    /// Before the record is written: no breakpoint may match the checksum's reads. With GD still set
    /// the MOV takes a #DB first, which the handler logs like the case's own.
    /// </summary>
    private static void EmitDebugDisarm(Assembler a)
    {
        a.xor(eax, eax);
        a.mov(dr7, eax);
    }
}
