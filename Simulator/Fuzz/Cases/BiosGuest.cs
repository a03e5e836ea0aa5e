using System.Buffers.Binary;
using Iced.Intel;
using Sim.Images;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Fuzz.Cases;

/// <summary>
/// A floppy or hard-disk image whose boot sector loads a program that calls BIOS services in a loop:
/// each call takes its vector and its registers (EAX-EBP, DS, ES) from a random table, mostly the
/// services the BIOS implements with plausible function numbers, buffers and disk addresses.
/// </summary>
internal static class BiosGuest
{
    private const int Calls = 128;
    private const int EntrySize = 40;
    private const int ProgramSectors = 17;
    private const ushort TableOffset = 0x400;
    private const ushort DapOffset = 0x1C00;

    public static FuzzProgram Generate(Random rng, FuzzSettings settings)
    {
        var floppy = rng.Next(2) == 0;
        var diskSize = floppy ? 1474560 : 512 * rng.Next(64, 8192);
        var disk = new byte[diskSize];
        rng.NextBytes(disk.AsSpan(512 * (ProgramSectors + 1), Math.Min(0x10000, diskSize - 512 * (ProgramSectors + 1))));
        var sectors = (ulong)diskSize / 512;

        var boot = GuestBuilder.Assemble(16, 0x7C00, a =>
        {
            a.cli();
            a.xor(ax, ax);
            a.mov(ss, ax);
            a.mov(sp, 0x7B00);
            a.mov(ax, (ushort)FuzzLayout.CodeSegment);
            a.mov(es, ax);
            a.xor(bx, bx);
            a.mov(ax, 0x0200 | ProgramSectors);
            a.mov(cx, 0x0002);
            a.xor(dh, dh);
            a.@int(0x13);
            a.jmp(FuzzLayout.CodeSegment, 0);
        });
        boot.CopyTo(disk, 0);
        disk[510] = 0x55;
        disk[511] = 0xAA;

        var program = new byte[512 * ProgramSectors];
        GuestBuilder.Assemble(16, 0, CallLoop).CopyTo(program, 0);
        for (var i = 0; i < Calls; i++) WriteCall(rng, settings, program.AsSpan(TableOffset + i * EntrySize, EntrySize), sectors, floppy);
        for (var i = 0; i < 16; i++) WriteDap(rng, settings, program.AsSpan(DapOffset + i * 16, 16), sectors);
        program.CopyTo(disk, 512);

        return new FuzzProgram
        {
            Description = $"Bios, {(floppy ? "floppy" : $"{diskSize / 512}-sector disk")}",
            MemoryBytes = ModeGuest.RandomMemory(rng),
            ImageBytes = disk,
            LoadOptions = new ImageLoadOptions(Format: ImageFormat.BootSector),
        };
    }

    /// <summary>Reads call [index++ mod 128], patches the vector of the INT at offset 0, loads the registers and jumps to the INT.</summary>
    private static void CallLoop(Assembler a)
    {
        var intInstruction = a.CreateLabel();
        a.Label(ref intInstruction);
        a.@int(0x10);
        a.xor(ax, ax);
        a.mov(ss, ax);
        a.mov(sp, 0x7B00);
        a.mov(ax, (ushort)FuzzLayout.CodeSegment);
        a.mov(ds, ax);
        a.mov(bx, __word_ptr[0x3F0]);
        a.inc(__word_ptr[0x3F0]);
        a.and(bx, Calls - 1);
        a.imul(bx, bx, EntrySize);
        a.add(bx, TableOffset);
        a.mov(al, __byte_ptr[bx]);
        a.mov(__byte_ptr[1], al);
        a.mov(ax, __word_ptr[bx + 30]);
        a.mov(es, ax);
        a.push(__word_ptr[bx + 32]);
        a.mov(eax, __dword_ptr[bx + 2]);
        a.mov(ecx, __dword_ptr[bx + 10]);
        a.mov(edx, __dword_ptr[bx + 14]);
        a.mov(esi, __dword_ptr[bx + 18]);
        a.mov(edi, __dword_ptr[bx + 22]);
        a.mov(ebp, __dword_ptr[bx + 26]);
        a.mov(ebx, __dword_ptr[bx + 6]);
        a.pop(ds);
        a.jmp(intInstruction);
    }

    private static readonly byte[] Vectors = [0x10, 0x11, 0x12, 0x13, 0x15, 0x16, 0x1A];

    private static void WriteCall(Random rng, FuzzSettings settings, Span<byte> e, ulong sectors, bool floppy)
    {
        var vector = rng.Next(10) == 0 ? (byte)rng.Next(256) : Vectors[rng.Next(Vectors.Length)];
        uint R() => (uint)RandomCode.Value(rng);
        uint eax = R(), ebx = R(), ecx = R(), edx = R(), esi = R(), edi = R(), ebp = R();
        ushort es = (ushort)rng.Next(0x10000), ds = (ushort)rng.Next(0x10000);
        if (rng.Next(4) != 0)
        {
            // A buffer between 128 KiB and 640 KiB, away from the program, its stack and the IVT.
            es = (ushort)rng.Next(0x2000, 0x9000);
            ebx &= 0xFFFF;
            edi &= 0xFFFF;
        }
        var drive = floppy ? 0x00u : 0x80u;
        if (rng.Next(3) != 0) edx = (edx & ~0xFFu) | drive;
        byte function;
        switch (vector)
        {
            case 0x10:
                byte[] video = [0x0E, 0x0F, 0x03, 0x13, 0x00, 0x02, 0x09];
                function = video[rng.Next(video.Length)];
                break;
            case 0x13:
                byte[] diskFunctions = [0x00, 0x01, 0x02, 0x08, 0x15, 0x41, 0x42, 0x48, 0x03, 0x43];
                function = diskFunctions[rng.Next(diskFunctions.Length)];
                if (function == 0x02 && rng.Next(2) == 0) eax = (eax & 0xFFFF0000) | 0x0200u | (uint)rng.Next(1, 20);
                if (function == 0x42)
                {
                    ds = FuzzLayout.CodeSegment;
                    esi = (uint)(DapOffset + rng.Next(16) * 16);
                }
                break;
            case 0x15:
                uint[] system = [0x2400, 0x2401, 0x2402, 0x2403, 0xE801, 0xE820, 0x8800, 0x8600, 0xC000, 0x8700, 0x5300];
                var ax = system[rng.Next(system.Length)];
                eax = ax == 0xE820 ? ax : (eax & 0xFFFF0000) | ax;
                if (ax == 0xE820)
                {
                    edx = 0x534D_4150;
                    ecx = rng.Next(2) == 0 ? 20u : (uint)rng.Next(64);
                    ebx = (uint)rng.Next(8);
                }
                if (ax == 0x8600) ecx &= 0xF;
                function = (byte)(eax >> 8);
                break;
            case 0x16:
                // AH = 00h and 10h wait for a key that never comes; rarely, so that most runs go on.
                byte[] keyboard = [0x01, 0x02, 0x11, 0x12, 0x05, 0x00, 0x10];
                function = keyboard[rng.Next(rng.Next(8) == 0 ? keyboard.Length : 5)];
                break;
            case 0x1A:
                function = (byte)rng.Next(8);
                if (function is 0x03 or 0x05 && rng.Next(2) == 0)
                {
                    ecx = Bcd(rng, function == 0x05 ? 10000 : 24, 4);
                    edx = Bcd(rng, 1232, 4);
                }
                break;
            default:
                function = (byte)rng.Next(256);
                break;
        }
        if (vector != 0x15) eax = (eax & 0xFFFF00FF) | ((uint)function << 8);
        e[0] = vector;
        BinaryPrimitives.WriteUInt32LittleEndian(e[2..], eax);
        BinaryPrimitives.WriteUInt32LittleEndian(e[6..], ebx);
        BinaryPrimitives.WriteUInt32LittleEndian(e[10..], ecx);
        BinaryPrimitives.WriteUInt32LittleEndian(e[14..], edx);
        BinaryPrimitives.WriteUInt32LittleEndian(e[18..], esi);
        BinaryPrimitives.WriteUInt32LittleEndian(e[22..], edi);
        BinaryPrimitives.WriteUInt32LittleEndian(e[26..], ebp);
        BinaryPrimitives.WriteUInt16LittleEndian(e[30..], es);
        BinaryPrimitives.WriteUInt16LittleEndian(e[32..], ds);
    }

    /// <summary>A number below <paramref name="limit"/> in packed BCD, mostly valid, sometimes with a bad digit.</summary>
    private static uint Bcd(Random rng, int limit, int digits)
    {
        var n = rng.Next(limit);
        uint bcd = 0;
        for (var i = 0; i < digits; i++, n /= 10) bcd |= (uint)(n % 10) << (4 * i);
        if (rng.Next(8) == 0) bcd |= (uint)rng.Next(10, 16) << (4 * rng.Next(digits));
        return bcd;
    }

    /// <summary>An INT 13h AH=42h disk address packet: a small count, a buffer, an LBA near the disk's size.</summary>
    private static void WriteDap(Random rng, FuzzSettings settings, Span<byte> dap, ulong sectors)
    {
        dap[0] = rng.Next(8) == 0 ? (byte)rng.Next(256) : (byte)16;
        BinaryPrimitives.WriteUInt16LittleEndian(dap[2..], (ushort)(rng.Next(4) == 0 ? rng.Next(0x10000) : rng.Next(1, 32)));
        BinaryPrimitives.WriteUInt16LittleEndian(dap[4..], (ushort)rng.Next(0x10000));
        BinaryPrimitives.WriteUInt16LittleEndian(dap[6..], (ushort)rng.Next(0x2000, 0x9000));
        var lba = rng.Next(3) switch
        {
            0 => (ulong)rng.NextInt64((long)sectors + 64),
            1 => sectors - (ulong)rng.Next(1, 4),
            _ => (ulong)rng.Next(64),
        };
        if (rng.Next(4) == 0) lba = RandomCode.Value(rng);
        BinaryPrimitives.WriteUInt64LittleEndian(dap[8..], lba);
    }
}
