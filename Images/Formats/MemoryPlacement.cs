namespace Sim.Images.Formats;

/// <summary>Checks that loaded pieces fit in guest RAM and do not overlap one another.</summary>
internal static class MemoryPlacement
{
    public static void EnsureInMemory(string name, string what, ulong address, ulong length, ulong memorySize)
    {
        if (address > memorySize || length > memorySize - address)
        {
            throw new ImageFormatException(name,
                $"{what} at 0x{address:X}-0x{address + length:X} lies beyond the end of guest memory (0x{memorySize:X} bytes)");
        }
    }

    public static void EnsureNoOverlap(string name, IReadOnlyList<(string What, ulong Address, ulong Length)> pieces)
    {
        var sorted = pieces.Where(p => p.Length > 0).OrderBy(p => p.Address).ToList();
        for (var i = 1; i < sorted.Count; i++)
        {
            var previous = sorted[i - 1];
            var current = sorted[i];
            if (current.Address < previous.Address + previous.Length)
            {
                throw new ImageFormatException(name,
                    $"{current.What} at 0x{current.Address:X} overlaps {previous.What} at 0x{previous.Address:X}-0x{previous.Address + previous.Length:X}");
            }
        }
    }

    public static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}
