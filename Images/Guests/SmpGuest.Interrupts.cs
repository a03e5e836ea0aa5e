using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Images.Guests.SmpLayout;

namespace Sim.Images.Guests;

/// <summary>The shared IDT and its handlers, the IPIs the BSP sends and the local APIC timer tests every CPU runs.</summary>
public sealed partial class SmpGuest
{
    private const byte NmiVector = 2;
    private const byte FixedVector = 0x40, BroadcastVector = 0x41, LogicalVector = 0x42;
    private const byte OneShotVector = 0x50, PeriodicVector = 0x51, DeadlineVector = 0x52;
    private const byte PitVector = 0x60, RtcVector = 0x61, Com1Vector = 0x62;
    private const byte SpuriousVector = 0xFF;

    private const uint LvtTimerRegister = 0x320;
    private const uint InitialCountRegister = 0x380;
    private const uint DivideConfigurationRegister = 0x3E0;
    private const uint LvtMasked = 1 << 16;
    private const uint LvtPeriodic = 1 << 17;
    private const uint LvtTscDeadline = 2 << 17;

    /// <summary>DCR 1011b: divide by 1.</summary>
    private const uint DivideBy1 = 0xB;

    /// <summary>Timer counts at divide-by-1: 100 µs one-shot and TSC-deadline delays and a 200 µs period at a 1 GHz APIC clock, as sim's and QEMU's are.</summary>
    private const uint OneShotCount = 100_000;
    private const uint PeriodicCount = 200_000;
    private const uint DeadlineDelta = 100_000;

    private const uint Ia32TscDeadline = 0x6E0;
    private const uint CpuidTscDeadline = 1 << 24;

    /// <summary>ICR low: fixed with level assert, NMI, the all-excluding-self shorthand (11b) and logical destination mode.</summary>
    private const uint IcrFixed = 0x4000;
    private const uint IcrNmi = 0x4400;
    private const uint IcrAllExcludingSelf = 3 << 18;
    private const uint IcrLogical = 1 << 11;

    private const int InterruptGate32 = 0x8E00;

    private static void EmitIdt(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        var loop = a.CreateLabel();
        var gate = a.CreateLabel();
        a.xor(ecx, ecx);
        a.Label(ref loop);
        a.call(labels.AddressOf(labels.Default));
        a.cmp(ecx, 32);
        a.jae(gate);
        a.call(labels.AddressOf(labels.Exception));
        a.Label(ref gate);
        SetGate(a);
        a.inc(ecx);
        a.cmp(ecx, 256);
        a.jb(loop);
        foreach (var (vector, handler) in new[]
        {
            (NmiVector, labels.Nmi), (FixedVector, labels.FixedIpi), (BroadcastVector, labels.BroadcastIpi), (LogicalVector, labels.LogicalIpi),
            (OneShotVector, labels.OneShot), (PeriodicVector, labels.Periodic), (DeadlineVector, labels.Deadline),
            (PitVector, labels.Pit), (RtcVector, labels.Rtc), (Com1Vector, labels.Com1), (SpuriousVector, labels.Spurious),
        })
        {
            a.mov(ecx, vector);
            a.call(labels.AddressOf(handler));
            SetGate(a);
        }
        a.mov(__word_ptr[Idtr], 256 * 8 - 1);
        a.mov(__dword_ptr[Idtr + 2], Idt);
        a.lidt(__[Idtr]);
    }

    /// <summary>Vector ECX: a 32-bit interrupt gate to EAX in the flat code segment; uses EAX.</summary>
    private static void SetGate(Assembler a)
    {
        a.mov(__word_ptr[ecx * 8 + Idt], ax);
        a.mov(__word_ptr[ecx * 8 + Idt + 2], GuestLayout.Code32Selector);
        a.mov(__word_ptr[ecx * 8 + Idt + 4], InterruptGate32);
        a.shr(eax, 16);
        a.mov(__word_ptr[ecx * 8 + Idt + 6], ax);
    }

    /// <summary>EAX = this CPU's slot, found by the APIC ID it reads from FEE00020h.</summary>
    private static void SlotOfThisCpu(Assembler a)
    {
        a.mov(eax, __dword_ptr[LocalApicBase + ApicIdRegister]);
        a.shr(eax, 24);
        a.movzx(eax, __byte_ptr[eax + IdToIndex]);
        a.shl(eax, SlotShift);
        a.add(eax, Slots);
    }

    private static void Eoi(Assembler a) => a.mov(__dword_ptr[LocalApicBase + EoiRegister], 0);

    /// <summary>A handler that counts the interrupt in this CPU's slot at <paramref name="offset"/> and, unless it is the NMI, sends the EOI.</summary>
    private static void CountingHandler(Assembler a, Labels labels, ref Label label, int offset, bool eoi)
    {
        labels.Place(ref label);
        a.push(eax);
        SlotOfThisCpu(a);
        a.@lock.inc(__dword_ptr[eax + offset]);
        if (eoi) Eoi(a);
        a.pop(eax);
        a.iretd();
    }

    private static void EmitHandlers(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        labels.Place(ref labels.Exception);
        code.Print("smp: exception\n");
        code.Fail(3);

        labels.Place(ref labels.Default);
        a.@lock.inc(__dword_ptr[Unexpected]);
        Eoi(a);
        a.iretd();

        // A spurious interrupt sets no ISR bit, so it takes no EOI (SDM vol. 3, 11.9).
        labels.Place(ref labels.Spurious);
        a.iretd();

        CountingHandler(a, labels, ref labels.Nmi, SlotNmi, eoi: false);
        CountingHandler(a, labels, ref labels.FixedIpi, SlotFixed, eoi: true);
        CountingHandler(a, labels, ref labels.BroadcastIpi, SlotBroadcast, eoi: true);
        CountingHandler(a, labels, ref labels.LogicalIpi, SlotLogical, eoi: true);
        CountingHandler(a, labels, ref labels.OneShot, SlotOneShot, eoi: true);
        CountingHandler(a, labels, ref labels.Deadline, SlotDeadline, eoi: true);

        // Stops its own timer at the last tick; one that was already pending is not counted, since the host's scheduling may let QEMU's timer run ahead.
        var periodicDone = a.CreateLabel();
        labels.Place(ref labels.Periodic);
        a.push(eax);
        SlotOfThisCpu(a);
        a.cmp(__dword_ptr[eax + SlotPeriodic], Ticks);
        a.jae(periodicDone);
        a.inc(__dword_ptr[eax + SlotPeriodic]);
        a.cmp(__dword_ptr[eax + SlotPeriodic], Ticks);
        a.jb(periodicDone);
        a.mov(__dword_ptr[LocalApicBase + InitialCountRegister], 0);
        a.mov(__dword_ptr[LocalApicBase + LvtTimerRegister], LvtMasked | LvtPeriodic | PeriodicVector);
        a.Label(ref periodicDone);
        Eoi(a);
        a.pop(eax);
        a.iretd();

        EmitIoApicHandlers(code, labels);
    }

    /// <summary>Slot EDI: the one-shot, periodic and (when CPUID.1:ECX[24] says so) TSC-deadline timer, each counted by its handler.</summary>
    private static void EmitTimerTests(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        var noDeadline = a.CreateLabel();
        a.Label(ref labels.TimerTests);
        a.sti();
        a.mov(__dword_ptr[LocalApicBase + DivideConfigurationRegister], DivideBy1);
        a.mov(__dword_ptr[LocalApicBase + LvtTimerRegister], OneShotVector);
        a.mov(__dword_ptr[LocalApicBase + InitialCountRegister], OneShotCount);
        SpinUntilAtLeast(a, __dword_ptr[edi + SlotOneShot], 1);

        a.mov(__dword_ptr[LocalApicBase + LvtTimerRegister], LvtPeriodic | PeriodicVector);
        a.mov(__dword_ptr[LocalApicBase + InitialCountRegister], PeriodicCount);
        SpinUntilAtLeast(a, __dword_ptr[edi + SlotPeriodic], Ticks);

        a.push(ebx);
        a.mov(eax, 1);
        a.cpuid();
        a.pop(ebx);
        a.test(ecx, CpuidTscDeadline);
        a.jz(noDeadline);
        a.mov(__dword_ptr[edi + SlotDeadlineSupported], 1);
        a.mov(__dword_ptr[LocalApicBase + LvtTimerRegister], LvtTscDeadline | DeadlineVector);
        // The LVT write must be done before the deadline is armed (SDM vol. 3, 11.5.4.1).
        a.mfence();
        a.rdtsc();
        a.add(eax, DeadlineDelta);
        a.adc(edx, 0);
        a.mov(ecx, Ia32TscDeadline);
        a.wrmsr();
        SpinUntilAtLeast(a, __dword_ptr[edi + SlotDeadline], 1);
        a.Label(ref noDeadline);
        a.mov(__dword_ptr[LocalApicBase + LvtTimerRegister], LvtMasked);
        a.ret();
    }

    /// <summary>
    /// A fixed IPI, then an NMI, to each AP; a broadcast to all excluding self; a logical IPI to
    /// <see cref="LogicalMask"/>. Each waits (bounded) until its targets have counted it.
    /// </summary>
    private static void EmitIpis(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        void ForEachAp(Action<Label> body)
        {
            var loop = a.CreateLabel();
            var next = a.CreateLabel();
            var done = a.CreateLabel();
            a.xor(ebx, ebx);
            a.Label(ref loop);
            a.cmp(ebx, __dword_ptr[CpuCount]);
            a.jae(done);
            a.cmp(ebx, __dword_ptr[BspIndex]);
            a.je(next);
            a.mov(edi, ebx);
            a.shl(edi, SlotShift);
            a.add(edi, Slots);
            body(next);
            a.Label(ref next);
            a.inc(ebx);
            a.jmp(loop);
            a.Label(ref done);
        }

        ForEachAp(_ =>
        {
            a.mov(edx, __dword_ptr[edi + SlotApicId]);
            a.mov(eax, IcrFixed | FixedVector);
            a.call(labels.SendIpi);
            SpinUntilAtLeast(a, __dword_ptr[edi + SlotFixed], 1);
            a.mov(eax, IcrNmi);
            a.call(labels.SendIpi);
            SpinUntilAtLeast(a, __dword_ptr[edi + SlotNmi], 1);
        });

        a.xor(edx, edx);
        a.mov(eax, IcrAllExcludingSelf | IcrFixed | BroadcastVector);
        a.call(labels.SendIpi);
        ForEachAp(_ => SpinUntilAtLeast(a, __dword_ptr[edi + SlotBroadcast], 1));

        a.mov(edx, LogicalMask);
        a.mov(eax, IcrLogical | IcrFixed | LogicalVector);
        a.call(labels.SendIpi);
        ForEachAp(next =>
        {
            a.mov(eax, LogicalMask);
            a.bt(eax, ebx);
            a.jnc(next);
            SpinUntilAtLeast(a, __dword_ptr[edi + SlotLogical], 1);
        });
    }

    private static void EmitPrintIpis(GuestCode code)
    {
        var a = code.Asm;
        ForEachCpuInIdOrder(a, () =>
        {
            PrintCpuName(code, "ipi cpu ");
            foreach (var (name, offset) in new[] { (": fixed ", SlotFixed), (" nmi ", SlotNmi), (" broadcast ", SlotBroadcast), (" logical ", SlotLogical) })
            {
                code.Print(name);
                a.mov(eax, __dword_ptr[edi + offset]);
                code.PrintDecimal();
            }
            code.Print("\n");
        });
    }

    private static void EmitPrintTimers(GuestCode code)
    {
        var a = code.Asm;
        ForEachCpuInIdOrder(a, () =>
        {
            PrintCpuName(code, "timer cpu ");
            code.Print(": one-shot ");
            a.mov(eax, __dword_ptr[edi + SlotOneShot]);
            code.PrintDecimal();
            code.Print(" periodic ");
            a.mov(eax, __dword_ptr[edi + SlotPeriodic]);
            code.PrintDecimal();
            code.Print("\n");
        });

        // One line, so that a CPU model without the TSC-deadline timer differs in it alone.
        var none = a.CreateLabel();
        var done = a.CreateLabel();
        code.Print("tsc-deadline:");
        a.mov(eax, __dword_ptr[BspIndex]);
        a.shl(eax, SlotShift);
        a.cmp(__dword_ptr[eax + Slots + SlotDeadlineSupported], 0);
        a.je(none);
        ForEachCpuInIdOrder(a, () =>
        {
            a.mov(al, (byte)' ');
            code.PrintChar();
            a.mov(eax, __dword_ptr[edi + SlotDeadline]);
            code.PrintDecimal();
        });
        a.jmp(done);
        a.Label(ref none);
        code.Print(" n/a");
        a.Label(ref done);
        code.Print("\n");
    }
}
