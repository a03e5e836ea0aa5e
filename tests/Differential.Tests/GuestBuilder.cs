using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

/// <summary>
/// Assembles a guest: a 32-bit Multiboot entry that installs the guest's own GDT (and IVT), switches
/// to the mode, then the mode's code: exception handlers that record the vector, error code and
/// state, the routine that writes a state record to port E9h, the cases, and the exit through port F4h.
/// </summary>
public static partial class GuestBuilder
{
    private const uint StubBAddress = DataLayout.LoadAddress + 0x800;
    private const uint HeadSize = 0x100;
    private const uint RealEntryOffset = 0x80;

    public static Guest Build(GuestMode mode, IReadOnlyList<TestCase> cases, byte[] pristine, GuestOptions options = default)
    {
        var slot = mode.SlotBytes();
        var tableBytes = (uint)((cases.Count + 1) * slot);
        var blobSize = Align(DataLayout.ResumeTable + tableBytes, 0x1000);
        if (DataLayout.DataBase + blobSize > DataLayout.Code16Base) throw new ArgumentException("too many cases for one guest");
        var ivtImageOffset = DataLayout.BlobImageOffset + blobSize;
        var modeImageOffset = ivtImageOffset + 0x1000;
        var modeBase = mode.Bitness() == 16 ? 0u : DataLayout.LoadAddress + modeImageOffset;
        var bodyBase = modeBase + HeadSize;

        var body = AssembleBody(mode, cases, bodyBase, options, out var vectorAddresses, out var caseStarts, out var endAddress);
        if (mode.Bitness() == 16 && bodyBase + body.Length > 0x10000) throw new ArgumentException("16-bit guest code exceeds 64 KiB");
        var head = AssembleHead(mode, modeBase, bodyBase);

        var modeCode = new byte[HeadSize + body.Length];
        head.CopyTo(modeCode, 0);
        body.CopyTo(modeCode, (int)HeadSize);

        var blob = new byte[blobSize];
        WriteTables(mode, blob, vectorAddresses, options);
        pristine.CopyTo(blob, (int)DataLayout.Pristine);
        for (var i = 0; i < cases.Count; i++)
            WriteSlot(blob, DataLayout.ResumeTable + (uint)(i * slot), slot, i + 1 < cases.Count ? caseStarts[i + 1] : endAddress);
        WriteSlot(blob, DataLayout.ResumeTable + (uint)(cases.Count * slot), slot, endAddress);

        var ivt = new byte[0x400];
        for (var v = 0; v < 32; v++)
            BitConverter.TryWriteBytes(ivt.AsSpan(v * 4), (uint)vectorAddresses[v] | (DataLayout.Code16Base >> 4) << 16);

        var imageSize = modeImageOffset + (uint)modeCode.Length;
        var image = new byte[imageSize];
        var stubA = AssembleStubA(imageSize, blobSize, ivtImageOffset);
        stubA.CopyTo(image, 0);
        AssembleStubB(mode, modeBase, modeImageOffset, (uint)modeCode.Length).CopyTo(image, 0x800);
        blob.CopyTo(image, DataLayout.BlobImageOffset);
        ivt.CopyTo(image, ivtImageOffset);
        modeCode.CopyTo(image, modeImageOffset);

        foreach (var c in cases)
        {
            var start = c.StepAddresses[0] - modeBase + modeImageOffset;
            var length = c.StepAddresses[^1] - c.StepAddresses[0];
            c.Code = image.AsSpan((int)start, (int)length).ToArray();
        }
        return new Guest { Mode = mode, Image = image, EntryPoint = DataLayout.LoadAddress + 0x20, Cases = cases };
    }

    private static uint Align(uint v, uint a) => (v + a - 1) & ~(a - 1);

    private static void WriteSlot(byte[] blob, uint offset, int slot, ulong value)
    {
        if (slot == 8) BitConverter.TryWriteBytes(blob.AsSpan((int)offset), value);
        else BitConverter.TryWriteBytes(blob.AsSpan((int)offset), (uint)value);
    }

    private static byte[] Assemble(Assembler asm, ulong address)
    {
        var stream = new MemoryStream();
        asm.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }

    /// <summary>The Multiboot header and the copy of tables into place, then a far jump to reload CS from the guest's GDT.</summary>
    private static byte[] AssembleStubA(uint imageSize, uint blobSize, uint ivtImageOffset)
    {
        const uint magic = 0x1BADB002, flags = 0x00010000;
        var header = new uint[]
        {
            magic, flags, unchecked(0u - magic - flags), DataLayout.LoadAddress, DataLayout.LoadAddress,
            DataLayout.LoadAddress + imageSize, DataLayout.LoadAddress + imageSize, DataLayout.LoadAddress + 0x20,
        };
        var a = new Assembler(32);
        a.cli();
        a.cld();
        a.mov(esi, DataLayout.LoadAddress + DataLayout.BlobImageOffset);
        a.mov(edi, DataLayout.DataBase);
        a.mov(ecx, blobSize);
        a.rep.movsb();
        a.mov(esi, DataLayout.LoadAddress + ivtImageOffset);
        a.xor(edi, edi);
        a.mov(ecx, 0x400);
        a.rep.movsb();
        a.lgdt(__[DataLayout.DataBase + DataLayout.GdtrPointer]);
        a.jmp(DataLayout.Code32Selector, StubBAddress);
        var code = Assemble(a, DataLayout.LoadAddress + 0x20);
        if (code.Length > 0x800 - 0x20) throw new InvalidOperationException("stub too large");
        var bytes = new byte[0x20 + code.Length];
        for (var i = 0; i < header.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), header[i]);
        code.CopyTo(bytes, 0x20);
        return bytes;
    }

    /// <summary>Flat data segments, then the way into the mode: straight on, via paging and EFER.LME, or via a 16-bit segment.</summary>
    private static byte[] AssembleStubB(GuestMode mode, uint modeBase, uint modeImageOffset, uint modeCodeLength)
    {
        var a = new Assembler(32);
        a.mov(ax, DataLayout.Data32Selector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(ss, ax);
        a.mov(esp, DataLayout.DataBase + DataLayout.HandlerStackTop);
        switch (mode)
        {
            case GuestMode.Protected32:
                a.jmp((ulong)modeBase);
                break;
            case GuestMode.Long64 or GuestMode.Compat32:
                a.mov(eax, cr4);
                a.or(eax, 0x20);
                a.mov(cr4, eax);
                a.mov(eax, DataLayout.DataBase + DataLayout.Pml4);
                a.mov(cr3, eax);
                a.mov(ecx, 0xC0000080);
                a.rdmsr();
                a.or(eax, 0x100);
                a.wrmsr();
                a.mov(eax, cr0);
                a.or(eax, unchecked((int)0x80000000));
                a.mov(cr0, eax);
                a.jmp(DataLayout.Code64Selector, modeBase);
                break;
            default:
                a.mov(esi, DataLayout.LoadAddress + modeImageOffset);
                a.mov(edi, DataLayout.Code16Base);
                a.mov(ecx, modeCodeLength);
                a.rep.movsb();
                a.jmp(DataLayout.Code16Selector, 0);
                break;
        }
        return Assemble(a, StubBAddress);
    }

    /// <summary>The mode's own set-up: segments, IDT (or IVT after leaving protected mode).</summary>
    private static byte[] AssembleHead(GuestMode mode, uint modeBase, uint bodyBase)
    {
        var head = new byte[HeadSize];
        var a = new Assembler(mode.IsLongMode() ? 64 : mode.Bitness());
        switch (mode)
        {
            case GuestMode.Compat32:
                a.lidt(__[(ulong)(DataLayout.DataBase + DataLayout.IdtrPointer)]);
                a.mov(ax, DataLayout.Data16Selector);
                a.mov(gs, ax);
                EmitFarJumpToCompat(a, bodyBase);
                break;
            case GuestMode.Protected32:
                a.lidt(__[DataLayout.DataBase + DataLayout.IdtrPointer]);
                a.mov(ax, DataLayout.Data16Selector);
                a.mov(gs, ax);
                a.jmp((ulong)bodyBase);
                break;
            case GuestMode.Long64:
                a.lidt(__[(ulong)(DataLayout.DataBase + DataLayout.IdtrPointer)]);
                a.jmp((ulong)bodyBase);
                break;
            default:
                a.mov(ax, DataLayout.Data16Selector);
                a.mov(ds, ax);
                a.mov(es, ax);
                a.mov(fs, ax);
                a.mov(gs, ax);
                a.mov(ss, ax);
                a.mov(esp, DataLayout.HandlerStackTop);
                if (mode == GuestMode.Protected16)
                {
                    a.lidt(__[DataLayout.IdtrPointer]);
                    a.jmp((ulong)bodyBase);
                }
                else
                {
                    a.mov(eax, cr0);
                    a.and(eax, ~1);
                    a.mov(cr0, eax);
                    a.jmp((ushort)(DataLayout.Code16Base >> 4), RealEntryOffset);
                    var r = new Assembler(16);
                    r.mov(ax, (ushort)(DataLayout.DataBase >> 4));
                    r.mov(ds, ax);
                    r.mov(es, ax);
                    r.mov(fs, ax);
                    r.mov(gs, ax);
                    r.mov(ss, ax);
                    r.mov(esp, DataLayout.HandlerStackTop);
                    r.lidt(__[DataLayout.IdtrRealPointer]);
                    r.jmp((ulong)bodyBase);
                    Assemble(r, RealEntryOffset).CopyTo(head, (int)RealEntryOffset);
                }
                break;
        }
        var first = Assemble(a, modeBase);
        if (first.Length > (mode == GuestMode.Real16 ? RealEntryOffset : HeadSize)) throw new InvalidOperationException("head too large");
        first.CopyTo(head, 0);
        return head;
    }

    private static ulong Descriptor(uint @base, uint limit, byte access, byte flags) =>
        (limit & 0xFFFFUL) | ((@base & 0xFFFFFFUL) << 16) | ((ulong)access << 40) | (((limit >> 16) & 0xFUL) << 48)
        | ((ulong)flags << 52) | ((ulong)(@base >> 24) << 56);

    private static void WriteTables(GuestMode mode, byte[] blob, ulong[] vectors, GuestOptions options)
    {
        void Q(uint offset, ulong v) => BitConverter.TryWriteBytes(blob.AsSpan((int)offset), v);
        void W(uint offset, ushort v) => BitConverter.TryWriteBytes(blob.AsSpan((int)offset), v);
        Q(DataLayout.Gdt + 0x08, Descriptor(0, 0xFFFFF, options.ExecuteOnlyCode ? (byte)0x99 : (byte)0x9B, 0xC));
        Q(DataLayout.Gdt + 0x10, Descriptor(0, 0xFFFFF, 0x93, 0xC));
        Q(DataLayout.Gdt + 0x18, Descriptor(0, 0xFFFFF, 0x9B, 0xA));
        Q(DataLayout.Gdt + 0x28, Descriptor(DataLayout.Code16Base, 0xFFFF, 0x9B, 0));
        Q(DataLayout.Gdt + 0x30, Descriptor(DataLayout.DataBase, 0xFFFF, 0x93, 0));
        foreach (var (selector, @base, limit, access, flags) in TestSegments.All)
            Q(DataLayout.Gdt + selector, Descriptor(@base, limit, access, flags));
        W(DataLayout.GdtrPointer, TestSegments.GdtLimit);
        if (options.UserMode)
        {
            Q(DataLayout.Gdt + DataLayout.UserCode32Selector, Descriptor(0, 0xFFFFF, 0xFB, 0xC));
            Q(DataLayout.Gdt + DataLayout.UserData32Selector, Descriptor(0, 0xFFFFF, 0xF3, 0xC));
            Q(DataLayout.Gdt + DataLayout.TssSelector, Descriptor(DataLayout.DataBase + DataLayout.Tss, 0x67, 0x89, 0));
            W(DataLayout.GdtrPointer, DataLayout.TssSelector + 7);
            // ESP0 below the handler stack's top, away from the scratch area; no I/O bitmap.
            BitConverter.TryWriteBytes(blob.AsSpan((int)DataLayout.Tss + 4), DataLayout.DataBase + DataLayout.HandlerStackTop - 0x200);
            BitConverter.TryWriteBytes(blob.AsSpan((int)DataLayout.Tss + 8), (uint)DataLayout.Data32Selector);
            W(DataLayout.Tss + 0x66, 0x68);
        }
        Q(DataLayout.GdtrPointer + 2, DataLayout.DataBase + DataLayout.Gdt);

        var gate = mode.IsLongMode() ? 16u : 8u;
        for (var v = 0u; v < 32; v++)
        {
            var off = vectors[v];
            var at = DataLayout.Idt + v * gate;
            switch (mode)
            {
                case GuestMode.Long64 or GuestMode.Compat32:
                    Q(at, (off & 0xFFFF) | ((ulong)DataLayout.Code64Selector << 16) | (0x8E00UL << 32) | (((off >> 16) & 0xFFFF) << 48));
                    Q(at + 8, off >> 32);
                    break;
                case GuestMode.Protected32:
                    Q(at, (off & 0xFFFF) | ((ulong)DataLayout.Code32Selector << 16) | (0x8E00UL << 32) | (((off >> 16) & 0xFFFF) << 48));
                    break;
                default:
                    Q(at, (off & 0xFFFF) | ((ulong)DataLayout.Code16Selector << 16) | (0x8600UL << 32));
                    break;
            }
        }
        W(DataLayout.IdtrPointer, (ushort)(32 * gate - 1));
        Q(DataLayout.IdtrPointer + 2, DataLayout.DataBase + DataLayout.Idt);
        W(DataLayout.IdtrRealPointer, 0x3FF);
        Q(DataLayout.IdtrRealPointer + 2, 0);

        if (!mode.IsLongMode()) return;
        Q(DataLayout.Pml4, DataLayout.DataBase + DataLayout.Pdpt | 3);
        Q(DataLayout.Pdpt, DataLayout.DataBase + DataLayout.Pd | 3);
        for (var i = 0u; i < 512; i++) Q(DataLayout.Pd + i * 8, ((ulong)i << 21) | 0x83);
    }
}
