using static Iced.Intel.AssemblerRegisters;
using static Sim.Images.Guests.SmpLayout;

namespace Sim.Images.Guests;

/// <summary>Finding the CPUs in the ACPI MADT and starting the application processors.</summary>
public sealed partial class SmpGuest
{
    private const uint LocalApicBase = 0xFEE0_0000;
    private const uint ApicIdRegister = 0x020;
    private const uint TaskPriorityRegister = 0x080;
    private const uint EoiRegister = 0x0B0;
    private const uint LogicalDestinationRegister = 0x0D0;
    private const uint DestinationFormatRegister = 0x0E0;
    private const uint SpuriousVectorRegister = 0x0F0;
    private const uint InterruptCommandLow = 0x300;
    private const uint InterruptCommandHigh = 0x310;

    /// <summary>SVR: APIC software enable (bit 8) with spurious vector FFh.</summary>
    private const uint SvrEnabled = 0x1FF;

    /// <summary>ICR: level assert (bit 14) with INIT (101b) and start-up (110b) delivery, SDM vol. 3, 11.6.1.</summary>
    private const uint IcrInit = 0x4500;
    private const uint IcrStartUp = 0x4600;
    private const uint IcrDeliveryStatus = 1 << 12;

    /// <summary>Busy loops between INIT and SIPIs; the check-in wait that follows is what lets a slow AP start.</summary>
    private const int InitDelay = 10_000;
    private const int StartUpDelay = 2_000;

    private const uint EbdaSegmentPointer = 0x40E;
    private const uint BiosAreaStart = 0xE0000;
    private const uint BiosAreaEnd = 0x100000;

    // "RSD PTR " and "APIC" as little-endian dwords.
    private const uint RsdpSignatureLow = 0x2044_5352;
    private const uint RsdpSignatureHigh = 0x2052_5450;
    private const uint MadtSignature = 0x4349_5041;

    private const int RsdpChecksumLength = 20;
    private const int RsdtAddressOffset = 16;
    private const int TableLengthOffset = 4;
    private const int TableHeaderSize = 36;
    private const int MadtEntriesOffset = 44;

    /// <summary>
    /// Searches the RSDP in the EBDA's first KiB, then in E0000h–FFFFFh, on 16-byte boundaries (ACPI 6.5,
    /// 5.2.5.1), follows the RSDT to the MADT and records the enabled Processor Local APIC entries' IDs in
    /// MADT order: <see cref="CpuCount"/> and <see cref="IdToIndex"/>. No MADT ends the run with failure 2.
    /// </summary>
    private static void EmitFindMadt(GuestCode code)
    {
        var a = code.Asm;
        var scan = a.CreateLabel();
        var scanNext = a.CreateLabel();
        var checksum = a.CreateLabel();
        var foundRsdp = a.CreateLabel();
        var searchBios = a.CreateLabel();
        var notFound = a.CreateLabel();
        var rsdtLoop = a.CreateLabel();
        var foundMadt = a.CreateLabel();
        var entryLoop = a.CreateLabel();
        var entryNext = a.CreateLabel();
        var parsed = a.CreateLabel();

        // ESI = where to search, EDX = where to stop; EBP says which area is being searched.
        a.movzx(esi, __word_ptr[EbdaSegmentPointer]);
        a.shl(esi, 4);
        a.lea(edx, __[esi + 1024]);
        a.xor(ebp, ebp);
        a.jmp(scan);

        a.Label(ref searchBios);
        a.test(ebp, ebp);
        a.jnz(notFound);
        a.inc(ebp);
        a.mov(esi, BiosAreaStart);
        a.mov(edx, BiosAreaEnd);

        a.Label(ref scan);
        a.cmp(esi, edx);
        a.jae(searchBios);
        a.cmp(__dword_ptr[esi], RsdpSignatureLow);
        a.jne(scanNext);
        a.cmp(__dword_ptr[esi + 4], RsdpSignatureHigh);
        a.jne(scanNext);
        a.xor(eax, eax);
        a.xor(ecx, ecx);
        a.Label(ref checksum);
        a.add(al, __byte_ptr[esi + ecx]);
        a.inc(ecx);
        a.cmp(ecx, RsdpChecksumLength);
        a.jb(checksum);
        a.test(al, al);
        a.jz(foundRsdp);
        a.Label(ref scanNext);
        a.add(esi, 16);
        a.jmp(scan);

        a.Label(ref notFound);
        code.Print("smp: no ACPI MADT\n");
        code.Fail(2);

        // EBX = RSDT, ECX = entries left, EDX = the entry.
        a.Label(ref foundRsdp);
        a.mov(ebx, __dword_ptr[esi + RsdtAddressOffset]);
        a.mov(ecx, __dword_ptr[ebx + TableLengthOffset]);
        a.sub(ecx, TableHeaderSize);
        a.shr(ecx, 2);
        a.lea(edx, __[ebx + TableHeaderSize]);
        a.Label(ref rsdtLoop);
        a.test(ecx, ecx);
        a.jz(notFound);
        a.mov(esi, __dword_ptr[edx]);
        a.cmp(__dword_ptr[esi], MadtSignature);
        a.je(foundMadt);
        a.add(edx, 4);
        a.dec(ecx);
        a.jmp(rsdtLoop);

        // ESI = MADT, ECX = its end, EDX = the entry, EAX = its length.
        a.Label(ref foundMadt);
        a.mov(ecx, __dword_ptr[esi + TableLengthOffset]);
        a.add(ecx, esi);
        a.lea(edx, __[esi + MadtEntriesOffset]);
        a.Label(ref entryLoop);
        a.cmp(edx, ecx);
        a.jae(parsed);
        a.movzx(eax, __byte_ptr[edx + 1]);
        a.test(eax, eax);
        a.jz(parsed);
        // Type 0, Processor Local APIC: flags bit 0 = enabled; the APIC ID is byte 3.
        a.cmp(__byte_ptr[edx], 0);
        a.jne(entryNext);
        a.test(__byte_ptr[edx + 4], 1);
        a.jz(entryNext);
        a.mov(ebx, __dword_ptr[CpuCount]);
        a.cmp(ebx, MaxCpus);
        a.jae(entryNext);
        a.movzx(edi, __byte_ptr[edx + 3]);
        a.mov(__byte_ptr[edi + IdToIndex], bl);
        a.shl(ebx, SlotShift);
        a.mov(__dword_ptr[ebx + Slots + SlotApicId], edi);
        a.inc(__dword_ptr[CpuCount]);
        a.Label(ref entryNext);
        a.add(edx, eax);
        a.jmp(entryLoop);
        a.Label(ref parsed);
    }

    private static void EmitPrintCpus(GuestCode code)
    {
        var a = code.Asm;
        var loop = a.CreateLabel();
        var done = a.CreateLabel();
        code.Print("smp: ");
        a.mov(eax, __dword_ptr[CpuCount]);
        code.PrintDecimal();
        code.Print(" CPUs in the ACPI MADT, APIC IDs");
        a.xor(ebx, ebx);
        a.Label(ref loop);
        a.cmp(ebx, __dword_ptr[CpuCount]);
        a.jae(done);
        a.mov(al, (byte)' ');
        code.PrintChar();
        a.mov(eax, ebx);
        a.shl(eax, SlotShift);
        a.mov(eax, __dword_ptr[eax + Slots + SlotApicId]);
        code.PrintDecimal();
        a.inc(ebx);
        a.jmp(loop);
        a.Label(ref done);
        code.Print("\n");
    }

    /// <summary>
    /// Copies the trampoline below 1 MiB, patches in the AP entry, and starts each AP in MADT order with
    /// INIT, SIPI, SIPI (SDM vol. 3, 9.4.4.1), waiting for its check-in before the next one so that the
    /// AP can take its slot index from <see cref="StartingIndex"/>.
    /// </summary>
    private static void EmitStartAps(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        var loop = a.CreateLabel();
        var next = a.CreateLabel();
        var done = a.CreateLabel();
        var trampoline = SmpTrampoline.Code();
        a.call(labels.AddressOf(labels.Trampoline));
        a.mov(esi, eax);
        a.mov(edi, SmpTrampoline.Address);
        a.mov(ecx, trampoline.Length);
        a.rep.movsb();
        a.call(labels.AddressOf(labels.ApEntry));
        a.mov(__dword_ptr[SmpTrampoline.Address + SmpTrampoline.TargetOffset], eax);

        a.xor(ebx, ebx);
        a.Label(ref loop);
        a.cmp(ebx, __dword_ptr[CpuCount]);
        a.jae(done);
        a.cmp(ebx, __dword_ptr[BspIndex]);
        a.je(next);
        a.mov(__dword_ptr[StartingIndex], ebx);
        a.mov(edi, ebx);
        a.shl(edi, SlotShift);
        a.add(edi, Slots);
        a.mov(edx, __dword_ptr[edi + SlotApicId]);
        a.mov(eax, IcrInit);
        a.call(labels.SendIpi);
        Delay(a, InitDelay);
        a.mov(eax, IcrStartUp | SmpTrampoline.StartupVector);
        a.call(labels.SendIpi);
        Delay(a, StartUpDelay);
        a.mov(eax, IcrStartUp | SmpTrampoline.StartupVector);
        a.call(labels.SendIpi);
        SpinUntilAtLeast(a, __dword_ptr[edi + SlotCheckIn], 1);
        a.Label(ref next);
        a.inc(ebx);
        a.jmp(loop);
        a.Label(ref done);
    }

    private static void Delay(Iced.Intel.Assembler a, int iterations)
    {
        var loop = a.CreateLabel();
        a.mov(ecx, iterations);
        a.Label(ref loop);
        a.pause();
        a.dec(ecx);
        a.jnz(loop);
    }

    /// <summary>Sends EAX to ICR low with EDX as the destination APIC ID, then waits while the delivery status is send-pending.</summary>
    private static void EmitSendIpi(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        var wait = a.CreateLabel();
        var done = a.CreateLabel();
        a.Label(ref labels.SendIpi);
        a.push(ecx);
        a.push(edx);
        a.shl(edx, 24);
        a.mov(__dword_ptr[LocalApicBase + InterruptCommandHigh], edx);
        a.mov(__dword_ptr[LocalApicBase + InterruptCommandLow], eax);
        a.mov(ecx, SpinBound);
        a.Label(ref wait);
        a.test(__dword_ptr[LocalApicBase + InterruptCommandLow], IcrDeliveryStatus);
        a.jz(done);
        a.pause();
        a.dec(ecx);
        a.jnz(wait);
        a.Label(ref done);
        a.pop(edx);
        a.pop(ecx);
        a.ret();
    }

    /// <summary>
    /// The 32-bit entry of an AP, from the trampoline: flat segments, a stack by APIC ID, the shared IDT,
    /// its slot from <see cref="StartingIndex"/>, check-in; then its work, and HLT with interrupts on.
    /// </summary>
    private static void EmitApEntry(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        var idle = a.CreateLabel();
        labels.Place(ref labels.ApEntry);
        a.mov(ax, GuestLayout.DataSelector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(eax, __dword_ptr[LocalApicBase + ApicIdRegister]);
        a.shr(eax, 24);
        a.lea(esp, __[eax + 1]);
        a.shl(esp, 12);
        a.add(esp, ApStacks);
        a.cld();
        a.lidt(__[Idtr]);
        a.mov(ebx, __dword_ptr[StartingIndex]);
        a.mov(edi, ebx);
        a.shl(edi, SlotShift);
        a.add(edi, Slots);
        a.call(labels.CpuSetUp);
        a.mov(__dword_ptr[edi + SlotCheckIn], 1);
        a.call(labels.CpuWork);
        a.Label(ref idle);
        a.sti();
        a.hlt();
        a.jmp(idle);
    }

    /// <summary>
    /// For the CPU of index EBX and slot EDI: records its APIC ID as FEE00020h reads it, enables its
    /// local APIC (SVR), clears the TPR and sets the flat logical model with LDR = 1 &lt;&lt; index.
    /// </summary>
    private static void EmitCpuSetUp(GuestCode code, Labels labels)
    {
        var a = code.Asm;
        a.Label(ref labels.CpuSetUp);
        a.mov(eax, __dword_ptr[LocalApicBase + ApicIdRegister]);
        a.shr(eax, 24);
        a.mov(__dword_ptr[edi + SlotApicId], eax);
        a.mov(__dword_ptr[LocalApicBase + SpuriousVectorRegister], SvrEnabled);
        a.mov(__dword_ptr[LocalApicBase + TaskPriorityRegister], 0);
        a.mov(__dword_ptr[LocalApicBase + DestinationFormatRegister], 0xFFFF_FFFF);
        a.mov(eax, 1);
        a.mov(ecx, ebx);
        a.shl(eax, cl);
        a.shl(eax, 24);
        a.mov(__dword_ptr[LocalApicBase + LogicalDestinationRegister], eax);
        a.ret();
    }
}
