using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Images.Guests.SmpLayout;

namespace Sim.Images.Guests;

/// <summary>
/// The PIT, the RTC and COM1 through the I/O APIC (82093AA datasheet, 3.2.4), the 8259 pair masked:
/// the PIT's IRQ 0 on GSI 2 and the RTC's periodic interrupt on GSI 8, edge-triggered, each counted to
/// <see cref="Ticks"/> and then masked; COM1's THR-empty interrupt on GSI 4 programmed level-triggered
/// and left asserted, so that each EOI makes the I/O APIC send it again (remote IRR), until the handler
/// turns it off at the UART on the last one.
/// </summary>
public sealed partial class SmpGuest
{
    private const uint IoApicBase = 0xFEC0_0000;
    private const uint IoRegSel = IoApicBase;
    private const uint IoWin = IoApicBase + 0x10;
    private const uint RedirectionLevel = 1 << 15;
    private const uint RedirectionMasked = 1 << 16;

    private const int PitGsi = 2, RtcGsi = 8, Com1Gsi = 4;

    private const byte PitCommandPort = 0x43, PitChannel0Port = 0x40;

    /// <summary>Channel 0, low then high byte, mode 2 (rate generator), binary.</summary>
    private const byte PitChannel0RateGenerator = 0x34;

    /// <summary>About 1 ms at 1.193182 MHz.</summary>
    private const ushort PitDivisor = 1193;

    private const byte RtcIndexPort = 0x70, RtcDataPort = 0x71;
    private const byte RtcRegisterA = 0x0A, RtcRegisterB = 0x0B, RtcRegisterC = 0x0C;

    /// <summary>Register A: the 32.768 kHz time base, rate 6 (1024 Hz periodic interrupt).</summary>
    private const byte RtcRate1024Hz = 0x26;

    private const byte RtcPeriodicInterruptEnable = 0x40;

    private const ushort UartIer = 0x3F9, UartMcr = 0x3FC;
    private const byte IerThre = 0x02;

    /// <summary>DTR, RTS and OUT2, which gates the UART's interrupt onto its IRQ line on a PC.</summary>
    private const byte McrWithOut2 = 0x0B, McrWithoutOut2 = 0x03;

    private static void EmitIoApic(GuestCode code)
    {
        var a = code.Asm;
        a.mov(al, PitChannel0RateGenerator);
        a.@out(PitCommandPort, al);
        a.mov(al, PitDivisor & 0xFF);
        a.@out(PitChannel0Port, al);
        a.mov(al, PitDivisor >> 8);
        a.@out(PitChannel0Port, al);
        WriteRedirection(a, PitGsi, PitVector);
        SpinUntilAtLeast(a, __dword_ptr[PitCount], Ticks);

        RtcRead(a, RtcRegisterC);
        WriteRedirection(a, RtcGsi, RtcVector);
        a.mov(al, RtcRegisterA);
        a.@out(RtcIndexPort, al);
        a.mov(al, RtcRate1024Hz);
        a.@out(RtcDataPort, al);
        RtcRead(a, RtcRegisterB);
        a.or(al, RtcPeriodicInterruptEnable);
        RtcWriteAl(a, RtcRegisterB);
        SpinUntilAtLeast(a, __dword_ptr[RtcCount], Ticks);

        WriteRedirection(a, Com1Gsi, RedirectionLevel | Com1Vector);
        a.mov(dx, UartMcr);
        a.mov(al, McrWithOut2);
        a.@out(dx, al);
        a.mov(dx, UartIer);
        a.mov(al, IerThre);
        a.@out(dx, al);
        SpinUntilAtLeast(a, __dword_ptr[Com1Count], Ticks);
        a.mov(dx, UartMcr);
        a.mov(al, McrWithoutOut2);
        a.@out(dx, al);
        WriteRedirection(a, Com1Gsi, RedirectionMasked | RedirectionLevel | Com1Vector);

        code.Print("ioapic: pit ");
        a.mov(eax, __dword_ptr[PitCount]);
        code.PrintDecimal();
        code.Print(" rtc ");
        a.mov(eax, __dword_ptr[RtcCount]);
        code.PrintDecimal();
        code.Print(" com1 ");
        a.mov(eax, __dword_ptr[Com1Count]);
        code.PrintDecimal();
        code.Print("\n");
    }

    /// <summary>The redirection entry of <paramref name="gsi"/>: <paramref name="low"/> (vector, trigger, mask), physical destination the BSP; uses EAX.</summary>
    private static void WriteRedirection(Assembler a, int gsi, uint low)
    {
        a.mov(__dword_ptr[IoRegSel], 0x11 + 2 * gsi);
        a.mov(eax, __dword_ptr[BspIndex]);
        a.shl(eax, SlotShift);
        a.mov(eax, __dword_ptr[eax + Slots + SlotApicId]);
        a.shl(eax, 24);
        a.mov(__dword_ptr[IoWin], eax);
        a.mov(__dword_ptr[IoRegSel], 0x10 + 2 * gsi);
        a.mov(__dword_ptr[IoWin], low);
    }

    private static void MaskRedirection(Assembler a, int gsi, byte vector)
    {
        a.mov(__dword_ptr[IoRegSel], 0x10 + 2 * gsi);
        a.mov(__dword_ptr[IoWin], RedirectionMasked | vector);
    }

    private static void RtcRead(Assembler a, byte register)
    {
        a.mov(al, register);
        a.@out(RtcIndexPort, al);
        a.@in(al, RtcDataPort);
    }

    private static void RtcWriteAl(Assembler a, byte register)
    {
        a.push(eax);
        a.mov(al, register);
        a.@out(RtcIndexPort, al);
        a.pop(eax);
        a.@out(RtcDataPort, al);
    }

    private static void EmitIoApicHandlers(GuestCode code, Labels labels)
    {
        var a = code.Asm;

        var pitDone = a.CreateLabel();
        labels.Place(ref labels.Pit);
        a.push(eax);
        a.cmp(__dword_ptr[PitCount], Ticks);
        a.jae(pitDone);
        a.inc(__dword_ptr[PitCount]);
        a.cmp(__dword_ptr[PitCount], Ticks);
        a.jb(pitDone);
        MaskRedirection(a, PitGsi, PitVector);
        a.Label(ref pitDone);
        Eoi(a);
        a.pop(eax);
        a.iretd();

        // Reading register C ends the RTC's interrupt request.
        var rtcDone = a.CreateLabel();
        labels.Place(ref labels.Rtc);
        a.push(eax);
        RtcRead(a, RtcRegisterC);
        a.cmp(__dword_ptr[RtcCount], Ticks);
        a.jae(rtcDone);
        a.inc(__dword_ptr[RtcCount]);
        a.cmp(__dword_ptr[RtcCount], Ticks);
        a.jb(rtcDone);
        RtcRead(a, RtcRegisterB);
        a.and(al, unchecked((byte)~RtcPeriodicInterruptEnable));
        RtcWriteAl(a, RtcRegisterB);
        MaskRedirection(a, RtcGsi, RtcVector);
        a.Label(ref rtcDone);
        Eoi(a);
        a.pop(eax);
        a.iretd();

        // The THR stays empty and IIR unread, so the line stays asserted until IER turns it off.
        var com1Eoi = a.CreateLabel();
        labels.Place(ref labels.Com1);
        a.push(eax);
        a.push(edx);
        a.inc(__dword_ptr[Com1Count]);
        a.cmp(__dword_ptr[Com1Count], Ticks);
        a.jb(com1Eoi);
        a.mov(dx, UartIer);
        a.xor(al, al);
        a.@out(dx, al);
        a.Label(ref com1Eoi);
        Eoi(a);
        a.pop(edx);
        a.pop(eax);
        a.iretd();
    }
}
