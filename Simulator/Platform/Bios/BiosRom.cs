using Iced.Intel;
using Sim.Cpu.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Platform.Bios;

/// <summary>
/// The minimal PC BIOS for real-mode boot images: 64 KiB of real-mode code at F000:0000, assembled
/// with Iced. Its init code (entered at F000:FFF0 or directly) programs the 8259A pair like a PC BIOS
/// (vectors 08h and 70h, only IRQ 0–2 unmasked) and 8254 counter 0 for 18.2 Hz, then jumps to the
/// boot entry with DL = boot drive and FLAGS = 0x2. INT 10h, 11h, 12h, 13h, 15h, 16h and 1Ah are
/// served by <see cref="BiosServices"/>; the IRQ 0 handler counts the BDA tick counter and calls INT
/// 1Ch; the other IRQ handlers send EOI (and ignore the spurious IRQ 7 and 15). The loader writes the
/// IVT directly, as a BIOS's POST would have left it; the BIOS data area is <see cref="Firmware.BiosDataArea"/>'s.
/// </summary>
public static class BiosRom
{
    public const ulong Base = 0xF0000;
    public const ushort Segment = 0xF000;
    public const int Size = 0x10000;
    public const ushort ResetVectorOffset = 0xFFF0;

    /// <summary>Ticks per day at 18.2065 Hz: the value at which the BDA counter wraps and sets the midnight flag.</summary>
    public const uint TicksPerDay = 0x1800B0;

    private static readonly byte[] ServicedVectors = [0x10, 0x11, 0x12, 0x13, 0x15, 0x16, 0x1A];

    /// <summary>The assembled ROM and where its entry points are.</summary>
    public sealed record Image(byte[] Rom, ushort InitOffset, ushort[] Vectors);

    /// <summary>Assembles the ROM for a boot that ends in a far jump to <paramref name="cs"/>:<paramref name="ip"/> with DL = <paramref name="drive"/>.</summary>
    public static Image Build(ushort cs, ushort ip, byte drive)
    {
        var a = new Assembler(16);
        var vectorLabels = new Label[256];
        var dummy = a.CreateLabel();
        a.Label(ref dummy);
        a.iret();
        for (var v = 0; v < 256; v++) vectorLabels[v] = dummy;

        foreach (var v in ServicedVectors)
        {
            var l = a.CreateLabel();
            a.Label(ref l);
            EmitServiceStub(a, v);
            vectorLabels[v] = l;
        }

        var timer = a.CreateLabel();
        a.Label(ref timer);
        EmitTimerHandler(a);
        vectorLabels[0x08] = timer;
        for (var irq = 1; irq < 16; irq++)
        {
            var l = a.CreateLabel();
            a.Label(ref l);
            EmitEoiHandler(a, irq);
            vectorLabels[irq < 8 ? 0x08 + irq : 0x70 + irq - 8] = l;
        }
        vectorLabels[0x1C] = dummy;

        var init = a.CreateLabel();
        a.Label(ref init);
        EmitInit(a, cs, ip, drive);

        using var stream = new MemoryStream();
        var result = a.Assemble(new StreamCodeWriter(stream), Base, BlockEncoderOptions.ReturnNewInstructionOffsets);
        var code = stream.ToArray();
        if (code.Length > ResetVectorOffset) throw new InvalidOperationException("The BIOS code overflows into the reset vector.");
        var rom = new byte[Size];
        code.CopyTo(rom, 0);
        ushort OffsetOf(Label l) => (ushort)(result.GetLabelRIP(l) - Base);
        var initOffset = OffsetOf(init);
        // Reset vector: JMP FAR F000:init.
        rom[ResetVectorOffset] = 0xEA;
        rom[ResetVectorOffset + 1] = (byte)initOffset;
        rom[ResetVectorOffset + 2] = (byte)(initOffset >> 8);
        rom[ResetVectorOffset + 3] = Segment & 0xFF;
        rom[ResetVectorOffset + 4] = Segment >> 8;
        "01/01/26"u8.CopyTo(rom.AsSpan(0xFFF5));
        // Model byte FCh: PC/AT.
        rom[0xFFFE] = 0xFC;
        var vectors = new ushort[256];
        for (var v = 0; v < 256; v++) vectors[v] = OffsetOf(vectorLabels[v]);
        return new Image(rom, initOffset, vectors);
    }

    /// <summary>
    /// Copies the ROM to F0000h and writes the interrupt vector table, and adds to the BIOS data area that
    /// <see cref="Firmware.BiosDataArea"/> filled what the disks it serves change: the floppy bit and the hard disk count.
    /// </summary>
    public static void Install(PhysicalMemory memory, Image image, DiskGeometry? disk, byte drive)
    {
        memory.WriteBytes(Base, image.Rom);
        var ivt = new byte[1024];
        for (var v = 0; v < 256; v++)
        {
            BitConverter.TryWriteBytes(ivt.AsSpan(v * 4), image.Vectors[v]);
            BitConverter.TryWriteBytes(ivt.AsSpan(v * 4 + 2), Segment);
        }
        memory.WriteBytes(0, ivt);

        const ulong bda = Firmware.BiosDataArea.Base;
        if (disk is { IsFloppy: true })
        {
            var equipment = memory.Read(bda + Firmware.BiosDataArea.EquipmentOffset, 2);
            memory.Write(bda + Firmware.BiosDataArea.EquipmentOffset, 2, equipment | Firmware.BiosDataArea.EquipmentFloppy);
        }
        memory.Write(bda + Firmware.BiosDataArea.HardDiskCountOffset, 1, disk is { IsFloppy: false } ? 1UL : 0);
    }

    private static void EmitServiceStub(Assembler a, byte vector)
    {
        const ushort p = BiosServices.BasePort;
        a.push(bp);
        a.mov(bp, sp);
        a.push(edx);
        a.mov(dx, p);
        a.@out(dx, eax);
        a.mov(dx, (ushort)(p + 4));
        a.mov(eax, ebx);
        a.@out(dx, eax);
        a.mov(dx, (ushort)(p + 8));
        a.mov(eax, ecx);
        a.@out(dx, eax);
        a.mov(eax, __dword_ptr[bp - 4]);
        a.mov(dx, (ushort)(p + 0x0C));
        a.@out(dx, eax);
        a.mov(dx, (ushort)(p + 0x10));
        a.mov(eax, esi);
        a.@out(dx, eax);
        a.mov(dx, (ushort)(p + 0x14));
        a.mov(eax, edi);
        a.@out(dx, eax);
        // The caller's BP is on the stack; the upper half of EBP is untouched.
        a.mov(eax, ebp);
        a.mov(ax, __word_ptr[bp]);
        a.mov(dx, (ushort)(p + 0x18));
        a.@out(dx, eax);
        a.mov(dx, (ushort)(p + 0x1C));
        a.mov(ax, ds);
        a.@out(dx, ax);
        a.mov(dx, (ushort)(p + 0x1E));
        a.mov(ax, es);
        a.@out(dx, ax);
        a.mov(dx, BiosServices.FlagsPort);
        a.mov(ax, __word_ptr[bp + 6]);
        a.@out(dx, ax);
        a.mov(dx, BiosServices.CallPort);
        a.mov(al, vector);
        a.@out(dx, al);

        a.mov(dx, BiosServices.FlagsPort);
        a.@in(ax, dx);
        a.mov(__word_ptr[bp + 6], ax);
        a.mov(dx, (ushort)(p + 0x1E));
        a.@in(ax, dx);
        a.mov(es, ax);
        a.mov(dx, (ushort)(p + 0x14));
        a.@in(eax, dx);
        a.mov(edi, eax);
        a.mov(dx, (ushort)(p + 0x10));
        a.@in(eax, dx);
        a.mov(esi, eax);
        a.mov(dx, (ushort)(p + 8));
        a.@in(eax, dx);
        a.mov(ecx, eax);
        a.mov(dx, (ushort)(p + 4));
        a.@in(eax, dx);
        a.mov(ebx, eax);
        a.mov(dx, (ushort)(p + 0x0C));
        a.@in(eax, dx);
        a.mov(__dword_ptr[bp - 4], eax);
        a.mov(dx, p);
        a.@in(eax, dx);
        a.pop(edx);
        a.pop(bp);
        a.iret();
    }

    private static void EmitTimerHandler(Assembler a)
    {
        var noWrap = a.CreateLabel();
        a.push(ds);
        a.push(eax);
        a.xor(ax, ax);
        a.mov(ds, ax);
        a.mov(eax, __dword_ptr[0x46C]);
        a.inc(eax);
        a.cmp(eax, TicksPerDay);
        a.jb(noWrap);
        a.xor(eax, eax);
        a.mov(__byte_ptr[0x470], 1);
        a.Label(ref noWrap);
        a.mov(__dword_ptr[0x46C], eax);
        a.@int(0x1C);
        a.mov(al, 0x20);
        a.@out(0x20, al);
        a.pop(eax);
        a.pop(ds);
        a.iret();
    }

    private static void EmitEoiHandler(Assembler a, int irq)
    {
        var done = a.CreateLabel();
        a.push(ax);
        if (irq is 7 or 15)
        {
            // A spurious request sets no ISR bit and must not be acknowledged (on IRQ 15 the master's
            // IR2 is in service and still needs its EOI).
            var port = irq == 7 ? (byte)0x20 : (byte)0xA0;
            var real = a.CreateLabel();
            a.mov(al, 0x0B);
            a.@out(port, al);
            a.@in(al, port);
            a.test(al, 0x80);
            a.jnz(real);
            if (irq == 15)
            {
                a.mov(al, 0x20);
                a.@out(0x20, al);
            }
            a.jmp(done);
            a.Label(ref real);
        }
        if (irq == 8)
        {
            // Reading register C acknowledges the RTC's interrupt.
            a.mov(al, 0x0C);
            a.@out(0x70, al);
            a.@in(al, 0x71);
        }
        a.mov(al, 0x20);
        if (irq >= 8) a.@out(0xA0, al);
        a.@out(0x20, al);
        a.Label(ref done);
        a.pop(ax);
        a.iret();
    }

    private static void EmitInit(Assembler a, ushort cs, ushort ip, byte drive)
    {
        a.cli();
        a.cld();
        a.xor(ax, ax);
        a.mov(ss, ax);
        a.mov(sp, 0x7C00);

        a.mov(al, 0x11);
        a.@out(0x20, al);
        a.@out(0xA0, al);
        a.mov(al, 0x08);
        a.@out(0x21, al);
        a.mov(al, 0x70);
        a.@out(0xA1, al);
        a.mov(al, 0x04);
        a.@out(0x21, al);
        a.mov(al, 0x02);
        a.@out(0xA1, al);
        a.mov(al, 0x01);
        a.@out(0x21, al);
        a.@out(0xA1, al);
        a.mov(al, 0xF8);
        a.@out(0x21, al);
        a.mov(al, 0xFF);
        a.@out(0xA1, al);

        // 8254 counter 0: LSB then MSB, mode 3, count 0 = 65536, 1193182 / 65536 = 18.2 Hz.
        a.mov(al, 0x36);
        a.@out(0x43, al);
        a.xor(al, al);
        a.@out(0x40, al);
        a.@out(0x40, al);

        a.xor(eax, eax);
        a.xor(ebx, ebx);
        a.xor(ecx, ecx);
        a.xor(edx, edx);
        a.xor(esi, esi);
        a.xor(edi, edi);
        a.xor(ebp, ebp);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(dl, drive);
        a.push(0x0002);
        a.popf();
        a.db(0xEA, (byte)ip, (byte)(ip >> 8), (byte)cs, (byte)(cs >> 8));
    }
}
