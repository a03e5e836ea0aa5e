using System.Buffers.Binary;
using Sim.Images;
using Sim.Images.Guests;

namespace Sim.Fuzz.Cases;

/// <summary>Valid images of every format the loaders take, built once: the seeds that <see cref="ImageMutation"/> damages.</summary>
internal static class ImageCorpus
{
    public enum Seed { Raw, Floppy, MultibootElf, MultibootAout, Elf64 }

    private const uint MultibootMagic = 0x1BADB002;

    private static readonly Lazy<byte[]> DemoPayload = new(() => new DemoGuest().Payload());
    private static readonly Lazy<byte[]> DemoFloppy = new(() => new DemoGuest().ToFloppy());
    private static readonly Lazy<byte[]> DemoMultiboot = new(() => new DemoGuest().ToMultibootKernel());

    public static byte[] Image(Seed seed, Random rng) => seed switch
    {
        Seed.Raw => rng.Next(2) == 0 ? (byte[])DemoPayload.Value.Clone() : RandomCode.Generate(rng, 32, rng.Next(16, 0x2000)),
        Seed.Floppy => (byte[])DemoFloppy.Value.Clone(),
        Seed.MultibootElf => (byte[])DemoMultiboot.Value.Clone(),
        Seed.MultibootAout => AoutKludge(DemoPayload.Value),
        _ => Elf64(RandomCode.Generate(rng, 64, rng.Next(16, 0x2000)), rng),
    };

    /// <summary>The payload behind a Multiboot header with the address fields (flag bit 16), loaded so that the payload lands at its address.</summary>
    private static byte[] AoutKludge(byte[] payload)
    {
        const int headerSize = 32;
        const uint flags = 0x0001_0003;
        var file = new byte[headerSize + payload.Length];
        var load = GuestLayout.PayloadAddress - headerSize;
        var h = file.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(h, MultibootMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], unchecked(0u - MultibootMagic - flags));
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], load);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], load);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], load + (uint)file.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], load + (uint)file.Length + 0x1000);
        BinaryPrimitives.WriteUInt32LittleEndian(h[28..], GuestLayout.PayloadAddress);
        payload.CopyTo(file, headerSize);
        return file;
    }

    /// <summary>An ELF64 executable: one PT_LOAD of <paramref name="code"/> at 2 MiB, and at random a second, BSS-only segment.</summary>
    private static byte[] Elf64(byte[] code, Random rng)
    {
        const int headerSize = 64, programHeaderSize = 56, codeOffset = 0x1000;
        const ulong address = 0x200000;
        var segments = rng.Next(2) == 0 ? 2 : 1;
        var file = new byte[codeOffset + code.Length];
        var s = file.AsSpan();
        s[0] = 0x7F; s[1] = (byte)'E'; s[2] = (byte)'L'; s[3] = (byte)'F';
        s[4] = 2; s[5] = 1; s[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], 62);
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], headerSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[52..], headerSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[54..], programHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[56..], (ushort)segments);
        for (var i = 0; i < segments; i++)
        {
            var p = s[(headerSize + i * programHeaderSize)..];
            BinaryPrimitives.WriteUInt32LittleEndian(p, 1);
            BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 7);
            BinaryPrimitives.WriteUInt64LittleEndian(p[8..], i == 0 ? codeOffset : 0UL);
            BinaryPrimitives.WriteUInt64LittleEndian(p[16..], i == 0 ? address : address + 0x100000);
            BinaryPrimitives.WriteUInt64LittleEndian(p[24..], i == 0 ? address : address + 0x100000);
            BinaryPrimitives.WriteUInt64LittleEndian(p[32..], i == 0 ? (ulong)code.Length : 0);
            BinaryPrimitives.WriteUInt64LittleEndian(p[40..], i == 0 ? (ulong)code.Length : 0x10000);
            BinaryPrimitives.WriteUInt64LittleEndian(p[48..], 0x1000);
        }
        code.CopyTo(file, codeOffset);
        return file;
    }
}
