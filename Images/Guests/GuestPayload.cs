using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

/// <summary>
/// Wraps a guest program into the payload loaded at <see cref="GuestLayout.PayloadAddress"/>.
/// The payload is entered in 32-bit protected mode at its first byte; it loads its own GDT
/// (nothing is assumed about the boot loader's), reloads CS and the data segments and sets the
/// stack. A long-mode payload then builds identity-mapped page tables and enters 64-bit mode
/// (CR4.PAE, CR3, EFER.LME, CR0.PG, far jump), as Intel SDM volume 3, section 10.8.5 describes.
/// </summary>
internal static class GuestPayload
{
    private const uint Cr4Pae = 1u << 5;
    private const uint Cr0Pg = 1u << 31;
    private const uint Ia32Efer = 0xC0000080;
    private const uint EferLme = 1u << 8;

    // Page-directory entry bits: present, writable, 2 MiB page size.
    private const uint PagePresentWritable = 0x3;
    private const uint LargePage = 0x80;
    private const uint TwoMegabytes = 0x200000;

    /// <summary>The payload bytes; <paramref name="program"/> emits the program in the mode's code.</summary>
    public static byte[] Build(GuestMode mode, Action<GuestCode> program)
    {
        var payload = new List<byte>(Place([], 0, Prologue(), "prologue"));
        if (mode == GuestMode.Protected32)
        {
            var code = new GuestCode(32);
            EnterFlatSegments(code.Asm);
            program(code);
            code.EmitRoutines();
            payload = Place(payload, GuestLayout.FlatCodeOffset, code.Assemble(GuestLayout.PayloadAddress + GuestLayout.FlatCodeOffset), "program");
        }
        else
        {
            payload = Place(payload, GuestLayout.FlatCodeOffset, LongModeSwitch(), "long-mode switch");
            var code = new GuestCode(64);
            code.Asm.mov(esp, GuestLayout.StackTop);
            program(code);
            code.EmitRoutines();
            payload = Place(payload, GuestLayout.LongModeCodeOffset, code.Assemble(GuestLayout.PayloadAddress + GuestLayout.LongModeCodeOffset), "program");
        }

        if (payload.Count > GuestLayout.MaxPayloadSize)
        {
            throw new InvalidOperationException($"the guest payload is {payload.Count} bytes, more than {GuestLayout.MaxPayloadSize}");
        }

        return [.. payload];
    }

    /// <summary>The address at which the direct (non-floppy) form enters the payload.</summary>
    public static EntryState DirectEntry(GuestMode mode) => mode == GuestMode.Protected32
        ? new ProtectedModeEntry(GuestLayout.PayloadAddress, 0, 0)
        : new LongModeEntry(GuestLayout.PayloadAddress + GuestLayout.LongModeCodeOffset, 0, 0);

    private static List<byte> Place(List<byte> payload, uint offset, byte[] code, string what)
    {
        if (payload.Count > offset)
        {
            throw new InvalidOperationException($"the guest {what} at payload offset 0x{offset:X} would overlap code that ends at 0x{payload.Count:X}");
        }

        payload.AddRange(new byte[offset - payload.Count]);
        payload.AddRange(code);
        return payload;
    }

    private static byte[] Prologue()
    {
        var a = new Assembler(32);
        a.cli();
        FloppyBootSector.EmitGdt(a, withLongModeCode: true);
        a.lgdt(__[GuestLayout.GdtrAddress]);
        a.jmp(GuestLayout.Code32Selector, GuestLayout.PayloadAddress + GuestLayout.FlatCodeOffset);
        return GuestCode.Assemble(a, GuestLayout.PayloadAddress);
    }

    private static void EnterFlatSegments(Assembler a)
    {
        a.mov(ax, GuestLayout.DataSelector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(esp, GuestLayout.StackTop);
        a.cld();
    }

    private static byte[] LongModeSwitch()
    {
        var a = new Assembler(32);
        EnterFlatSegments(a);

        a.mov(edi, GuestLayout.Pml4Address);
        a.xor(eax, eax);
        a.mov(ecx, 3 * 4096 / 4);
        a.rep.stosd();
        a.mov(__dword_ptr[GuestLayout.Pml4Address], GuestLayout.PdptAddress | PagePresentWritable);
        a.mov(__dword_ptr[GuestLayout.PdptAddress], GuestLayout.PageDirectoryAddress | PagePresentWritable);
        var fill = a.CreateLabel();
        a.mov(edi, GuestLayout.PageDirectoryAddress);
        a.mov(eax, LargePage | PagePresentWritable);
        a.mov(ecx, 512);
        a.Label(ref fill);
        a.mov(__dword_ptr[edi], eax);
        a.add(eax, TwoMegabytes);
        a.add(edi, 8);
        a.dec(ecx);
        a.jnz(fill);

        a.mov(eax, cr4);
        a.or(eax, Cr4Pae);
        a.mov(cr4, eax);
        a.mov(eax, GuestLayout.Pml4Address);
        a.mov(cr3, eax);
        a.mov(ecx, Ia32Efer);
        a.rdmsr();
        a.or(eax, EferLme);
        a.wrmsr();
        a.mov(eax, cr0);
        a.or(eax, Cr0Pg);
        a.mov(cr0, eax);
        a.jmp(GuestLayout.Code64Selector, GuestLayout.PayloadAddress + GuestLayout.LongModeCodeOffset);
        return GuestCode.Assemble(a, GuestLayout.PayloadAddress + GuestLayout.FlatCodeOffset);
    }
}
