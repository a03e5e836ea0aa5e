namespace Sim.Images.Formats;

/// <summary>
/// Places a flat binary at the load address: below 1 MiB it starts in real mode at
/// CS = address >> 4, IP = address &amp; 0xF; above, in 32-bit protected mode at the address.
/// </summary>
internal static class RawLoader
{
    private const ulong RealModeLimit = 0x100000;

    // A raw image has no boot drive of its own; 0x80 says "first hard disk" as a BIOS would.
    private const byte DefaultBootDrive = 0x80;

    public static BootImage Load(byte[] bytes, string name, ImageLoadOptions options)
    {
        var address = options.LoadAddress
            ?? throw new ImageFormatException(name, "a raw image needs a load address (pass one)");
        if (bytes.Length == 0)
        {
            throw new ImageFormatException(name, "file is empty");
        }

        MemoryPlacement.EnsureInMemory(name, "raw image", address, (ulong)bytes.Length, options.MemorySize);
        EntryState entry;
        string where;
        if (address < RealModeLimit)
        {
            entry = new RealModeEntry((ushort)(address >> 4), (ushort)(address & 0xF), DefaultBootDrive);
            where = $"real mode at {address >> 4:X4}:{address & 0xF:X4}";
        }
        else if (address <= uint.MaxValue)
        {
            entry = new ProtectedModeEntry((uint)address, 0, 0);
            where = $"32-bit protected mode at 0x{address:X8}";
        }
        else
        {
            throw new ImageFormatException(name, $"raw load address 0x{address:X} is above 4 GiB, where a 32-bit entry cannot reach");
        }

        return new BootImage
        {
            Chunks = [new MemoryChunk(address, bytes)],
            Entry = entry,
            Description = $"raw image {name}, {bytes.Length} bytes at 0x{address:X}, {where}",
        };
    }
}
