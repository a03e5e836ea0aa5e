using static Iced.Intel.AssemblerRegisters;
using static Sim.Images.Guests.SmpLayout;

namespace Sim.Images.Guests;

/// <summary>What every CPU computes, and the BSP's report and check of it.</summary>
public sealed partial class SmpGuest
{
    /// <summary>CPU index EBX, slot EDI: sums its slice, runs its timer tests, then sets its done flag. Preserves EBX and EDI.</summary>
    private static void EmitCpuWork(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        var notLast = a.CreateLabel();
        a.Label(ref labels.CpuWork);
        a.push(ebx);
        a.push(edi);
        a.mov(eax, RangeSize);
        a.xor(edx, edx);
        a.div(__dword_ptr[CpuCount]);
        a.mov(ecx, eax);
        a.imul(ecx, ebx);
        a.lea(esi, __[ecx + eax]);
        a.lea(edx, __[ebx + 1]);
        a.cmp(edx, __dword_ptr[CpuCount]);
        a.jne(notLast);
        a.mov(esi, RangeSize);
        a.Label(ref notLast);
        a.call(labels.SumRange);
        a.mov(__dword_ptr[edi + SlotSum], eax);
        a.call(labels.TimerTests);
        a.mov(__dword_ptr[edi + SlotDone], 1);
        a.pop(edi);
        a.pop(ebx);
        a.ret();
    }

    /// <summary>EAX = <see cref="Sum"/>(ECX, ESI); uses ECX and EDX.</summary>
    private static void EmitSumRange(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        var loop = a.CreateLabel();
        var done = a.CreateLabel();
        a.Label(ref labels.SumRange);
        a.push(ebx);
        a.xor(ebx, ebx);
        a.Label(ref loop);
        a.cmp(ecx, esi);
        a.jae(done);
        a.imul(eax, ecx, unchecked((int)Golden));
        a.mov(edx, eax);
        a.shr(edx, 15);
        a.xor(eax, edx);
        a.add(ebx, eax);
        a.inc(ecx);
        a.jmp(loop);
        a.Label(ref done);
        a.mov(eax, ebx);
        a.pop(ebx);
        a.ret();
    }

    private static void EmitWaitAllDone(GuestCode code)
    {
        var a = code.Asm;
        var loop = a.CreateLabel();
        var done = a.CreateLabel();
        a.xor(ebx, ebx);
        a.Label(ref loop);
        a.cmp(ebx, __dword_ptr[CpuCount]);
        a.jae(done);
        a.mov(edi, ebx);
        a.shl(edi, SlotShift);
        a.add(edi, Slots);
        SpinUntilAtLeast(a, __dword_ptr[edi + SlotDone], 1);
        a.inc(ebx);
        a.jmp(loop);
        a.Label(ref done);
    }

    /// <summary>Each CPU's slice and sum in APIC-ID order, then the combined sum against the sum on one CPU.</summary>
    private static void EmitPrintSums(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        var mismatch = a.CreateLabel();
        var printed = a.CreateLabel();
        ForEachCpuInIdOrder(a, () =>
        {
            PrintCpuName(code, "cpu ");
            code.Print(" apic ");
            a.mov(eax, __dword_ptr[edi + SlotApicId]);
            code.PrintDecimal();
            code.Print(": sum of [");
            a.mov(eax, RangeSize);
            a.xor(edx, edx);
            a.div(__dword_ptr[CpuCount]);
            a.mov(ecx, eax);
            a.imul(eax, ebx);
            code.PrintDecimal();
            code.Print(", ");
            a.add(eax, ecx);
            a.lea(edx, __[ebx + 1]);
            a.cmp(edx, __dword_ptr[CpuCount]);
            var notLast = a.CreateLabel();
            a.jne(notLast);
            a.mov(eax, RangeSize);
            a.Label(ref notLast);
            code.PrintDecimal();
            code.Print(") = ");
            a.mov(eax, __dword_ptr[edi + SlotSum]);
            code.PrintHex();
            code.Print("\n");
        });

        a.xor(eax, eax);
        a.xor(ebx, ebx);
        var add = a.CreateLabel();
        var added = a.CreateLabel();
        a.Label(ref add);
        a.cmp(ebx, __dword_ptr[CpuCount]);
        a.jae(added);
        a.mov(edi, ebx);
        a.shl(edi, SlotShift);
        a.add(eax, __dword_ptr[edi + Slots + SlotSum]);
        a.inc(ebx);
        a.jmp(add);
        a.Label(ref added);
        a.mov(edi, eax);
        code.Print("combined ");
        code.PrintHex();
        a.xor(ecx, ecx);
        a.mov(esi, RangeSize);
        a.call(labels.SumRange);
        code.Print(", on one CPU ");
        code.PrintHex();
        a.cmp(eax, edi);
        a.jne(mismatch);
        code.Print(": ok\n");
        a.jmp(printed);
        a.Label(ref mismatch);
        code.Print(": MISMATCH\n");
        a.Label(ref printed);
    }
}
