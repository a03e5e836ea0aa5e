using System.Buffers.Binary;
using Iced.Intel;
using Sim.Images;

namespace Sim.Fuzz;

/// <summary>
/// The pieces the generated guests share: memory chunks, the GDT, IDTs, TSSs, identity page tables
/// with random damage beyond the guest's own area, the random code and the table of points where the
/// handlers resume it.
/// </summary>
internal sealed class GuestBuilder(Random rng)
{
    private readonly List<MemoryChunk> _chunks = [];

    public Random Rng { get; } = rng;

    public IReadOnlyList<MemoryChunk> Chunks => _chunks;

    public void Add(ulong address, byte[] data) => _chunks.Add(new MemoryChunk(address, data));

    public void Add(ulong address, int bitness, Action<Assembler> build) => Add(address, Assemble(bitness, address, build));

    public static byte[] Assemble(int bitness, ulong address, Action<Assembler> build)
    {
        var asm = new Assembler(bitness);
        build(asm);
        var stream = new MemoryStream();
        asm.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }

    public void AddQwords(ulong address, ulong[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        Add(address, bytes);
    }

    /// <summary>Pseudo-descriptors for LGDT and LIDT (limit, then a 64-bit base, which 32-bit code reads the low half of).</summary>
    public void AddDescriptorTableRegisters(int idtEntrySize)
    {
        var bytes = new byte[0x30];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, FuzzLayout.GdtEntries * 8 - 1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(2), FuzzLayout.Gdt);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x10), (ushort)(256 * idtEntrySize - 1));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(0x12), FuzzLayout.Idt);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(0x20), 0xFFF);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(0x22), FuzzLayout.HostIdt);
        Add(FuzzLayout.Gdtr, bytes);
    }

    /// <summary>The fixed segments, a TSS descriptor, and random descriptors and call gates after them.</summary>
    public void AddGdt(bool tss64)
    {
        var gdt = new ulong[FuzzLayout.GdtEntries];
        gdt[1] = Descriptors.FlatCode32;
        gdt[2] = Descriptors.FlatData;
        gdt[3] = Descriptors.FlatCode64;
        gdt[4] = Descriptors.Code16;
        gdt[5] = Descriptors.Data16;
        gdt[6] = Descriptors.UserCode32;
        gdt[7] = Descriptors.UserData;
        gdt[8] = Descriptors.UserCode64;
        gdt[9] = Descriptors.UserCode16;
        gdt[10] = Descriptors.Segment(FuzzLayout.Tss, FuzzLayout.TssIoBitmapOffset + 0x2000, 0x89, 0);
        gdt[11] = tss64 ? FuzzLayout.Tss >> 32 : Descriptors.Segment(0, 0xFFFF, 0x82, 0);
        for (var i = FuzzLayout.FirstRandomDescriptor; i < gdt.Length; i++) gdt[i] = RandomDescriptor();
        AddQwords(FuzzLayout.Gdt, gdt);
    }

    private ulong RandomDescriptor()
    {
        switch (Rng.Next(8))
        {
            case 0:
                return (ulong)Rng.NextInt64();
            case 1:
                ushort[] selectors = [FuzzLayout.Code32, FuzzLayout.Code64, FuzzLayout.Code16, FuzzLayout.UserCode32, FuzzLayout.UserCode64, (ushort)Rng.Next(0x100)];
                return Descriptors.Gate(selectors[Rng.Next(selectors.Length)], FuzzLayout.Code + (ulong)Rng.Next(0x4000), Rng.Next(4) == 0 ? 4 : 0xC, Rng.Next(4));
            default:
                var access = (byte)(0x80 | (Rng.Next(4) << 5) | (Rng.Next(8) == 0 ? 0 : 0x10) | Rng.Next(16));
                if (Rng.Next(10) == 0) access &= 0x7F;
                var @base = Rng.Next(3) == 0 ? (ulong)(uint)Rng.Next() : (ulong)Rng.Next(4) << 16;
                var limit = Rng.Next(3) == 0 ? (uint)Rng.Next(0x100000) : 0xFFFFF;
                return Descriptors.Segment(@base, limit, access, (byte)Rng.Next(16));
        }
    }

    /// <summary>256 gates to <paramref name="handler"/>: mostly DPL 3 interrupt gates, some trap gates, some 16-bit gates, and for 64-bit some IST stacks.</summary>
    public void AddIdt(ulong idt, bool long64, ulong handler, ushort selector, bool allow16)
    {
        var gates = new ulong[long64 ? 512 : 256];
        for (var v = 0; v < 256; v++)
        {
            var type = Rng.Next(5) == 0 ? 0xF : 0xE;
            if (allow16 && Rng.Next(6) == 0) type -= 8;
            var dpl = Rng.Next(4) == 0 ? 0 : 3;
            var ist = long64 && Rng.Next(8) == 0 ? Rng.Next(1, 8) : 0;
            var gate = Descriptors.Gate(selector, handler, type, dpl, ist);
            if (Rng.Next(200) == 0) gate &= ~(1UL << 47);
            if (long64)
            {
                gates[v * 2] = gate;
                gates[v * 2 + 1] = handler >> 32;
            }
            else
            {
                gates[v] = gate;
            }
        }
        AddQwords(idt, gates);
    }

    /// <summary>A 32- or 64-bit TSS with ring-0 stacks (and IST stacks) and an I/O permission bitmap that is open, closed or random.</summary>
    public void AddTss(bool tss64)
    {
        var tss = new byte[FuzzLayout.TssIoBitmapOffset + 0x2000 + 1];
        if (tss64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(tss.AsSpan(4), FuzzLayout.KernelStack);
            for (var i = 1; i <= 7; i++) BinaryPrimitives.WriteUInt64LittleEndian(tss.AsSpan(0x1C + i * 8), FuzzLayout.KernelStack - (ulong)i * 0x800);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(tss.AsSpan(4), (uint)FuzzLayout.KernelStack);
            BinaryPrimitives.WriteUInt16LittleEndian(tss.AsSpan(8), FuzzLayout.Data32);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(tss.AsSpan(0x66), FuzzLayout.TssIoBitmapOffset);
        var bitmap = tss.AsSpan(FuzzLayout.TssIoBitmapOffset, 0x2000);
        switch (Rng.Next(3))
        {
            case 0: break;
            case 1: bitmap.Fill(0xFF); break;
            default: Rng.NextBytes(bitmap); break;
        }
        tss[^1] = 0xFF;
        Add(FuzzLayout.Tss, tss);
    }

    /// <summary>Random code at <see cref="FuzzLayout.Code"/> and the points to resume it at (offsets in the segment, or linear addresses).</summary>
    public void AddRandomCode(int bitness, bool linear, int length) => AddCode(RandomCode.Generate(Rng, bitness, length), null, linear);

    /// <summary>
    /// <paramref name="code"/> at <see cref="FuzzLayout.Code"/>, resumed at random points: anywhere, or at
    /// one of <paramref name="boundaries"/> (instruction starts) when given.
    /// </summary>
    public void AddCode(byte[] code, IReadOnlyList<int>? boundaries, bool linear)
    {
        Add(FuzzLayout.Code, code);
        var points = new ulong[FuzzLayout.ResumePoints];
        for (var i = 0; i < points.Length; i++)
        {
            var offset = (ulong)(boundaries is { Count: > 0 } ? boundaries[Rng.Next(boundaries.Count)] : Rng.Next(code.Length));
            points[i] = linear ? FuzzLayout.Code + offset : offset;
        }
        AddQwords(FuzzLayout.ResumeTable, points);
        var data = new byte[0x1000];
        Rng.NextBytes(data);
        Add(FuzzLayout.Data, data);
    }

    /// <summary>An IVT whose every vector leads to the real-mode handler.</summary>
    public void AddIvt()
    {
        var ivt = new byte[1024];
        for (var v = 0; v < 256; v++) BinaryPrimitives.WriteUInt32LittleEndian(ivt.AsSpan(v * 4), (uint)FuzzLayout.Handler16);
        Add(FuzzLayout.Ivt, ivt);
    }

    /// <summary>Damages a page-table entry now and then: not present, read-only, supervisor, NX or a reserved bit.</summary>
    private ulong Damage(ulong entry, bool allowNx)
    {
        if (Rng.Next(12) != 0) return entry;
        return Rng.Next(6) switch
        {
            0 => entry & ~1UL,
            1 => entry & ~2UL,
            2 => entry & ~4UL,
            3 => allowNx ? entry | (1UL << 63) : entry & ~1UL,
            4 => entry | (1UL << Rng.Next(12, 52)),
            _ => entry ^ (1UL << Rng.Next(64)),
        };
    }

    private const ulong PageTable4K = FuzzLayout.PageTables + 0xA000;

    // Kernel runs get supervisor pages, so that SMEP and SMAP from the random code bite only when it is asked for.

    /// <summary>EPT (4-level, 2 MiB pages, write-back, read/write/execute) identity-mapping 4 GiB at <paramref name="root"/>; returns the EPTP.</summary>
    public ulong AddEpt(ulong root)
    {
        var tables = new ulong[6 * 512];
        tables[0] = (root + 0x1000) | 7;
        for (var i = 0; i < 4; i++) tables[512 + i] = (root + 0x2000 + (ulong)i * 0x1000) | 7;
        for (var i = 0; i < 4 * 512; i++) tables[1024 + i] = ((ulong)i << 21) | 0x80 | (6 << 3) | 7;
        AddQwords(root, tables);
        return root | (3 << 3) | 6;
    }

    /// <summary>Nested-paging tables (the long-mode format, user pages) identity-mapping 4 GiB at <paramref name="root"/>.</summary>
    public ulong AddNestedPageTables(ulong root)
    {
        var tables = new ulong[6 * 512];
        tables[0] = (root + 0x1000) | 7;
        for (var i = 0; i < 4; i++) tables[512 + i] = (root + 0x2000 + (ulong)i * 0x1000) | 7;
        for (var i = 0; i < 4 * 512; i++) tables[1024 + i] = ((ulong)i << 21) | 0x87;
        AddQwords(root, tables);
        return root;
    }

    /// <summary>4-level tables identity-mapping 8 GiB (2 MiB pages, 4 KiB pages at 4-6 MiB), damaged above 6 MiB; returns CR3.</summary>
    public ulong AddLongModePageTables(bool user)
    {
        var pml4 = FuzzLayout.PageTables;
        var pdpt = pml4 + 0x1000;
        var pd = pml4 + 0x2000;
        var tables = new ulong[0xB000 / 8];
        tables[0] = pdpt | 7;
        for (var i = 0; i < 8; i++) tables[0x200 + i] = (pd + (ulong)i * 0x1000) | 7;
        for (var i = 0; i < 8 * 512; i++)
        {
            var entry = ((ulong)i << 21) | (user ? 0x87UL : 0x83UL);
            tables[0x400 + i] = i < 3 ? entry : Damage(entry, allowNx: true);
        }
        tables[0x400 + 2] = PageTable4K | (user ? 7UL : 3UL);
        for (var i = 0; i < 512; i++) tables[0x1400 + i] = Damage((0x400000UL + ((ulong)i << 12)) | (user ? 7UL : 3UL), allowNx: true);
        AddQwords(pml4, tables);
        return pml4;
    }

    /// <summary>PAE tables identity-mapping 4 GiB like <see cref="AddLongModePageTables"/>; returns CR3 (the PDPT).</summary>
    public ulong AddPaePageTables(bool user)
    {
        var pdpt = FuzzLayout.PageTables;
        var pd = pdpt + 0x2000;
        var tables = new ulong[0xB000 / 8];
        for (var i = 0; i < 4; i++) tables[i] = (pd + (ulong)i * 0x1000) | 1;
        for (var i = 0; i < 4 * 512; i++)
        {
            var entry = ((ulong)i << 21) | (user ? 0x87UL : 0x83UL);
            tables[0x400 + i] = i < 3 ? entry : Damage(entry, allowNx: false);
        }
        tables[0x400 + 2] = PageTable4K | (user ? 7UL : 3UL);
        for (var i = 0; i < 512; i++) tables[0x1400 + i] = Damage((0x400000UL + ((ulong)i << 12)) | (user ? 7UL : 3UL), allowNx: false);
        AddQwords(pdpt, tables);
        return pdpt;
    }

    /// <summary>32-bit tables: 4 MiB pages (PSE) identity-mapping 4 GiB, 4 KiB pages at 4-8 MiB, damaged above; returns CR3.</summary>
    public ulong AddPageTables32(bool user)
    {
        var pd = FuzzLayout.PageTables;
        var bytes = new byte[0xB000];
        for (var i = 0; i < 1024; i++)
        {
            var entry = ((ulong)i << 22) | (user ? 0x87UL : 0x83UL);
            if (i > 1) entry = Damage(entry, allowNx: false);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), (uint)entry);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)PageTable4K | (user ? 7u : 3u));
        for (var i = 0; i < 1024; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(0xA000 + i * 4), (uint)Damage((0x400000UL + ((ulong)i << 12)) | (user ? 7UL : 3UL), allowNx: false));
        Add(pd, bytes);
        return pd;
    }

    /// <summary>EFLAGS for the random code: IF and IOPL at random, now and then AC.</summary>
    public uint RandomFlags(bool vm = false) =>
        0x2u | (Rng.Next(2) == 0 ? 0x200u : 0) | ((uint)Rng.Next(4) << 12) | (Rng.Next(16) == 0 ? 0x40000u : 0) | (vm ? 0x20000u : 0);
}
