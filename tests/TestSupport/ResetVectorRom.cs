using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.TestSupport;

/// <summary>
/// A 64 KiB firmware ROM for `--bios` (QEMU's <c>-bios</c>), assembled with Iced: a far jump at the
/// reset vector (F000:FFF0, read through CS.base FFFF0000h) to real-mode code in the ROM's alias below
/// 1 MiB, which checks that a write to the ROM is ignored, enters 32-bit protected mode through a GDT in
/// the ROM, compares the image at the top of 4 GiB with the alias, writes there too, and ends through
/// port F4h with 0. Every line goes to port E9h and to COM1; a failed check prints its letter and exits with 1.
/// </summary>
internal static class ResetVectorRom
{
    public const int Size = 64 * 1024;

    /// <summary>What the ROM prints (on port E9h and on COM1) when every check passes.</summary>
    public const string Output = "rom: real mode at F000:0100\nrom: ROM writes ignored\nrom: protected mode\nrom: FFFF0000h-FFFFFFFFh is the ROM\nrom: done\n";

    private const ushort RealModeCode = 0x0100;
    private const int GdtrOffset = 0x70;
    private const int GdtOffset = 0x80;
    private const int ProtectedModeCode = 0x400;
    private const uint AliasBase = 0xF0000;

    public static byte[] Build()
    {
        var rom = new byte[Size];
        Array.Fill(rom, (byte)0xFF);

        // Reset vector: JMP FAR F000:0100.
        new byte[] { 0xEA, RealModeCode & 0xFF, RealModeCode >> 8, 0x00, 0xF0 }.CopyTo(rom, 0xFFF0);

        BitConverter.GetBytes((ushort)23).CopyTo(rom, GdtrOffset);
        BitConverter.GetBytes(AliasBase + GdtOffset).CopyTo(rom, GdtrOffset + 2);
        BitConverter.GetBytes(0UL).CopyTo(rom, GdtOffset);
        BitConverter.GetBytes(0x00CF_9B00_0000_FFFFUL).CopyTo(rom, GdtOffset + 8);
        BitConverter.GetBytes(0x00CF_9300_0000_FFFFUL).CopyTo(rom, GdtOffset + 16);

        var real = new Assembler(16);
        var fail = real.CreateLabel();
        real.cli();
        real.mov(ax, cs);
        real.mov(ds, ax);
        Print(real, "rom: real mode at F000:0100\n");
        real.mov(__byte_ptr[0xFFF0], 0x90);
        real.cmp(__byte_ptr[0xFFF0], 0xEA);
        real.jne(fail);
        real.mov(__byte_ptr[0x0000], 0x00);
        real.cmp(__byte_ptr[0x0000], 0xFF);
        real.jne(fail);
        Print(real, "rom: ROM writes ignored\n");
        real.lgdt(__[GdtrOffset]);
        real.mov(eax, cr0);
        real.or(al, 1);
        real.mov(cr0, eax);
        // JMP FAR 0008:(F0000h + ProtectedModeCode) with a 32-bit offset.
        real.db(0x66, 0xEA);
        real.dd(AliasBase + ProtectedModeCode);
        real.dw(0x0008);
        real.Label(ref fail);
        Print(real, "rom: FAIL real\n");
        real.mov(al, 1);
        real.@out(0xF4, al);
        real.hlt();
        Place(rom, RealModeCode, real, AliasBase + RealModeCode);

        var pm = new Assembler(32);
        var pmFail = pm.CreateLabel();
        pm.mov(ax, 0x10);
        pm.mov(ds, ax);
        pm.mov(es, ax);
        pm.mov(ss, ax);
        Print(pm, "rom: protected mode\n");
        pm.mov(esi, 0xFFFF0000);
        pm.mov(edi, AliasBase);
        pm.mov(ecx, Size / 4);
        pm.cld();
        pm.repe.cmpsd();
        pm.jne(pmFail);
        pm.mov(__dword_ptr[0xFFFFFFF0], 0x12345678);
        pm.mov(eax, __dword_ptr[0xFFFFFFF0]);
        pm.cmp(eax, __dword_ptr[AliasBase + 0xFFF0]);
        pm.jne(pmFail);
        Print(pm, "rom: FFFF0000h-FFFFFFFFh is the ROM\n");
        Print(pm, "rom: done\n");
        pm.mov(al, 0);
        pm.@out(0xF4, al);
        pm.hlt();
        pm.Label(ref pmFail);
        Print(pm, "rom: FAIL protected\n");
        pm.mov(al, 1);
        pm.@out(0xF4, al);
        pm.hlt();
        Place(rom, ProtectedModeCode, pm, AliasBase + ProtectedModeCode);
        return rom;
    }

    private static void Print(Assembler a, string text)
    {
        foreach (var c in text)
        {
            a.mov(al, (byte)c);
            a.@out(0xE9, al);
            a.mov(dx, 0x3F8);
            a.@out(dx, al);
        }
    }

    private static void Place(byte[] rom, int offset, Assembler a, ulong origin)
    {
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), origin);
        stream.ToArray().CopyTo(rom, offset);
    }
}
