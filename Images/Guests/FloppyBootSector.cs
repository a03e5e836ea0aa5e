using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

/// <summary>
/// The 512-byte boot sector of the built-in guests' floppies. From real mode at 0000:7C00 it reads
/// the payload sectors that follow it to <see cref="GuestLayout.PayloadAddress"/> with INT 13h
/// AH=02h (geometry from AH=08h, 18 sectors and 2 heads if that fails), enables A20 through port
/// 0x92, loads a flat GDT, sets CR0.PE and far-jumps to the payload in 32-bit protected mode.
/// </summary>
public static class FloppyBootSector
{
    public const int Size = 512;
    public const ushort Origin = 0x7C00;

    private const ushort DriveVariable = GuestLayout.BootVariables;
    private const ushort SectorsPerTrackVariable = GuestLayout.BootVariables + 2;
    private const ushort HeadsVariable = GuestLayout.BootVariables + 4;
    private const ushort LbaVariable = GuestLayout.BootVariables + 6;
    private const ushort SegmentVariable = GuestLayout.BootVariables + 8;
    private const int ReadRetries = 3;

    /// <summary>Flat descriptors: base 0, limit 0xFFFFF with G = 1, present, DPL 0.</summary>
    internal const ulong Code32Descriptor = 0x00CF_9A00_0000_FFFF;
    internal const ulong DataDescriptor = 0x00CF_9200_0000_FFFF;
    internal const ulong Code64Descriptor = 0x00AF_9A00_0000_FFFF;

    /// <summary>The boot sector that loads <paramref name="payloadSectors"/> sectors (LBA 1 onwards).</summary>
    public static byte[] Build(int payloadSectors)
    {
        if (payloadSectors < 1 || payloadSectors * 512 > GuestLayout.MaxPayloadSize)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadSectors), payloadSectors,
                $"the payload must be 1 to {GuestLayout.MaxPayloadSize / 512} sectors");
        }

        var a = new Assembler(16);
        var defaultGeometry = a.CreateLabel();
        var geometryDone = a.CreateLabel();
        var readNext = a.CreateLabel();
        var retry = a.CreateLabel();
        var sectorRead = a.CreateLabel();
        var diskError = a.CreateLabel();
        var loaded = a.CreateLabel();

        a.cli();
        a.xor(ax, ax);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(sp, Origin);
        a.mov(__byte_ptr[DriveVariable], dl);
        // The floppy BIOS waits for IRQ 6, so INT 13h needs interrupts on.
        a.sti();
        a.cld();

        a.mov(ah, 0x08);
        a.xor(di, di);
        a.@int(0x13);
        a.jc(defaultGeometry);
        a.and(cx, 0x3F);
        a.jz(defaultGeometry);
        a.mov(__word_ptr[SectorsPerTrackVariable], cx);
        a.movzx(ax, dh);
        a.inc(ax);
        a.mov(__word_ptr[HeadsVariable], ax);
        a.jmp(geometryDone);
        a.Label(ref defaultGeometry);
        a.mov(__word_ptr[SectorsPerTrackVariable], 18);
        a.mov(__word_ptr[HeadsVariable], 2);
        a.Label(ref geometryDone);
        a.xor(ax, ax);
        a.mov(es, ax);

        a.mov(__word_ptr[LbaVariable], 1);
        a.mov(__word_ptr[SegmentVariable], (ushort)(GuestLayout.PayloadAddress >> 4));
        a.Label(ref readNext);
        a.mov(ax, __word_ptr[LbaVariable]);
        a.cmp(ax, (ushort)payloadSectors);
        a.ja(loaded);
        // LBA to CHS: sector = LBA % SPT + 1, head = (LBA / SPT) % heads, cylinder = LBA / SPT / heads.
        a.xor(dx, dx);
        a.div(__word_ptr[SectorsPerTrackVariable]);
        a.inc(dx);
        a.mov(cl, dl);
        a.xor(dx, dx);
        a.div(__word_ptr[HeadsVariable]);
        a.mov(dh, dl);
        a.mov(ch, al);
        a.shl(ah, 6);
        a.or(cl, ah);
        a.mov(dl, __byte_ptr[DriveVariable]);
        a.mov(bx, __word_ptr[SegmentVariable]);
        a.mov(es, bx);
        a.xor(bx, bx);
        a.mov(si, ReadRetries);
        a.Label(ref retry);
        a.mov(ax, 0x0201);
        a.@int(0x13);
        a.jnc(sectorRead);
        a.dec(si);
        a.jz(diskError);
        a.xor(ax, ax);
        a.@int(0x13);
        a.jmp(retry);
        a.Label(ref sectorRead);
        a.inc(__word_ptr[LbaVariable]);
        a.add(__word_ptr[SegmentVariable], 512 >> 4);
        a.jmp(readNext);

        a.Label(ref diskError);
        foreach (var c in "boot: disk read error\n")
        {
            a.mov(al, (byte)c);
            a.@out((byte)GuestCode.DebugConsolePort, al);
        }

        var halt = a.CreateLabel();
        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);

        a.Label(ref loaded);
        a.cli();
        // Port 0x92 bit 1 is the fast A20 gate; bit 0 would reset the machine.
        a.@in(al, 0x92);
        a.or(al, 0x02);
        a.and(al, 0xFE);
        a.@out(0x92, al);
        EmitGdt(a, withLongModeCode: false);
        a.lgdt(__[GuestLayout.GdtrAddress]);
        a.mov(eax, cr0);
        a.or(eax, 1);
        a.mov(cr0, eax);
        // A 16:32 far jump (operand-size prefix) reloads CS with the 32-bit code segment.
        a.AddInstruction(Instruction.CreateBranch(Code.Jmp_ptr1632, GuestLayout.Code32Selector, GuestLayout.PayloadAddress));

        var code = GuestCode.Assemble(a, Origin);
        if (code.Length > 510)
        {
            throw new InvalidOperationException($"the boot sector code is {code.Length} bytes, more than 510");
        }

        var sector = new byte[Size];
        code.CopyTo(sector, 0);
        sector[510] = 0x55;
        sector[511] = 0xAA;
        return sector;
    }

    /// <summary>Writes the GDT and GDTR at their fixed addresses with absolute stores (works in 16- and 32-bit code).</summary>
    internal static void EmitGdt(Assembler a, bool withLongModeCode)
    {
        ulong[] descriptors = withLongModeCode
            ? [0, Code32Descriptor, DataDescriptor, Code64Descriptor]
            : [0, Code32Descriptor, DataDescriptor];
        for (var i = 0; i < descriptors.Length; i++)
        {
            a.mov(__dword_ptr[GuestLayout.GdtAddress + (8 * i)], (uint)descriptors[i]);
            a.mov(__dword_ptr[GuestLayout.GdtAddress + (8 * i) + 4], (uint)(descriptors[i] >> 32));
        }

        a.mov(__word_ptr[GuestLayout.GdtrAddress], (ushort)((descriptors.Length * 8) - 1));
        a.mov(__dword_ptr[GuestLayout.GdtrAddress + 2], GuestLayout.GdtAddress);
    }
}
