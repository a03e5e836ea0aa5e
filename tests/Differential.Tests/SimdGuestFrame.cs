using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

/// <summary>
/// What the SIMD and XSAVE differential guests share: a Multiboot image at <see cref="DataLayout.LoadAddress"/> whose
/// 32-bit entry stub clears CR0.EM and TS, sets MP and NE, CR4.OSFXSR and OSXMMEXCPT (and with the AVX state CR4.OSXSAVE
/// and XCR0 = 7), and jumps to the case code in 32-bit protected mode (on the loader's segments, or with <c>flat32</c> on
/// the GDT's flat 32-bit code segment 18h, whose selector an IDT can name) or, through its own GDT (08h 64-bit code, 10h
/// flat data) and page tables identity-mapping the first GiB with 2 MiB pages, in 64-bit mode; and the end of the run: port
/// F4h (QEMU, sim) or "Shutdown" on port 8900h (Bochs).
/// </summary>
public static class SimdGuestFrame
{
    private const uint GdtOffset = 0x200;
    private const uint EntryOffset = 0x20;
    private const uint StackTop = 0x90000;

    public const int Code64Selector = 0x08;
    public const int Code32Selector = 0x18;

    /// <summary>The offset of the page tables (3 pages) for case data ending at <paramref name="dataEnd"/>; the code follows them.</summary>
    public static uint TablesOffset(uint dataEnd) => (dataEnd + 0xFFF) & ~0xFFFu;

    public static uint CodeOffset(uint tablesOffset) => tablesOffset + 0x3000;

    /// <summary>The case code's assembler, its 64-bit (and flat 32-bit) form starting with the data segment loads.</summary>
    public static Assembler CaseCode(bool long64, bool flat32 = false)
    {
        var a = new Assembler(long64 ? 64 : 32);
        if (long64 || flat32)
        {
            a.mov(ax, 0x10);
            a.mov(ss, ax);
            a.mov(ds, ax);
            a.mov(es, ax);
        }
        return a;
    }

    public static void EmitEnd(Assembler a)
    {
        a.mov(al, 0);
        a.@out(0xF4, al);
        // QEMU and sim stop at port F4h; Bochs ignores it and stops at "Shutdown" on port 8900h.
        a.mov(dx, 0x8900);
        foreach (var ch in "Shutdown")
        {
            a.mov(al, (byte)ch);
            a.@out(dx, al);
        }
        var halt = a.CreateLabel();
        a.Label(ref halt);
        a.hlt();
        a.jmp(halt);
    }

    /// <summary>The image: header, entry stub, GDT and page tables, and the case code <paramref name="a"/> at <paramref name="codeOffset"/>; the caller adds the case data.</summary>
    public static byte[] Image(Assembler a, uint tablesOffset, uint codeOffset, bool long64, bool avxState, bool flat32 = false)
    {
        var load = DataLayout.LoadAddress;
        var stub = new Assembler(32);
        stub.mov(esp, StackTop);
        stub.mov(eax, cr0);
        stub.and(eax, ~0xC);
        stub.or(eax, 0x22);
        stub.mov(cr0, eax);
        stub.mov(eax, cr4);
        stub.or(eax, (long64 ? 0x620 : 0x600) | (avxState ? 0x40000 : 0));
        stub.mov(cr4, eax);
        if (avxState)
        {
            stub.xor(ecx, ecx);
            stub.xor(edx, edx);
            stub.mov(eax, 7);
            stub.xsetbv();
        }
        if (long64)
        {
            stub.lgdt(__[load + GdtOffset + 0x20]);
            stub.mov(eax, load + tablesOffset);
            stub.mov(cr3, eax);
            stub.mov(ecx, 0xC0000080);
            stub.rdmsr();
            stub.or(eax, 0x100);
            stub.wrmsr();
            stub.mov(eax, cr0);
            stub.or(eax, unchecked((int)0x80000000));
            stub.mov(cr0, eax);
            stub.jmp(Code64Selector, load + codeOffset);
        }
        else if (flat32)
        {
            stub.lgdt(__[load + GdtOffset + 0x20]);
            stub.jmp(Code32Selector, load + codeOffset);
        }
        else stub.jmp((ulong)(load + codeOffset));

        var code = Assemble(a, load + codeOffset);
        var stubCode = Assemble(stub, load + EntryOffset);
        if (stubCode.Length > GdtOffset - EntryOffset) throw new InvalidOperationException("stub too large");
        var image = new byte[codeOffset + code.Length];
        const uint magic = 0x1BADB002, flags = 0x00010000;
        uint[] header = [magic, flags, unchecked(0u - magic - flags), load, load, load + (uint)image.Length, load + (uint)image.Length, load + EntryOffset];
        for (var i = 0; i < header.Length; i++) BitConverter.TryWriteBytes(image.AsSpan(i * 4), header[i]);
        stubCode.CopyTo(image, (int)EntryOffset);
        BitConverter.TryWriteBytes(image.AsSpan((int)GdtOffset + 8), 0x00AF9B000000FFFFUL);
        BitConverter.TryWriteBytes(image.AsSpan((int)GdtOffset + 16), 0x00CF93000000FFFFUL);
        BitConverter.TryWriteBytes(image.AsSpan((int)GdtOffset + 24), 0x00CF9B000000FFFFUL);
        BitConverter.TryWriteBytes(image.AsSpan((int)GdtOffset + 0x20), (ushort)0x1F);
        BitConverter.TryWriteBytes(image.AsSpan((int)GdtOffset + 0x22), load + GdtOffset);
        BitConverter.TryWriteBytes(image.AsSpan((int)tablesOffset), (ulong)(load + tablesOffset + 0x1000) | 3);
        BitConverter.TryWriteBytes(image.AsSpan((int)tablesOffset + 0x1000), (ulong)(load + tablesOffset + 0x2000) | 3);
        for (var i = 0; i < 512; i++) BitConverter.TryWriteBytes(image.AsSpan((int)tablesOffset + 0x2000 + 8 * i), ((ulong)i << 21) | 0x83);
        code.CopyTo(image, (int)codeOffset);
        return image;
    }

    public static Guest Guest(byte[] image, bool long64) =>
        new() { Mode = long64 ? GuestMode.Long64 : GuestMode.Protected32, Image = image, EntryPoint = DataLayout.LoadAddress + EntryOffset, Cases = [] };

    private static byte[] Assemble(Assembler a, ulong address)
    {
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }
}
