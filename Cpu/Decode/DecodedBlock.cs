namespace Sim.Cpu;

/// <summary>A run of decoded instructions from one physical page, entered at its first instruction.</summary>
internal sealed class DecodedBlock
{
    public DecodedBlock(ulong physicalStart, int bitness, DecodedOp[] ops, Iced.Intel.Code[] codes, int count, int byteLength)
    {
        Codes = codes;
        PhysicalStart = physicalStart;
        Bitness = bitness;
        Ops = ops;
        Count = count;
        ByteLength = byteLength;
    }

    public ulong PhysicalStart { get; }

    public int Bitness { get; }

    public DecodedOp[] Ops { get; }

    /// <summary>The Iced instruction code of each operation, for virtualization units (exit information, decode assists).</summary>
    public Iced.Intel.Code[] Codes { get; }

    public int Count { get; }

    public int ByteLength { get; }

    /// <summary>Cleared when a write to the page drops the block.</summary>
    public bool Valid = true;

    /// <summary>How far past its start IP the block's code reaches: the last byte of its furthest instruction.</summary>
    public ulong MaxReach { get; init; }

    /// <summary>How far before its start IP a followed backward branch leads (0 if none).</summary>
    public ulong BackReach { get; init; }

    /// <summary>The 64-byte lines of its page that the block's instructions occupy (bit n: bytes 64n to 64n + 63).</summary>
    public ulong Lines { get; init; }

    /// <summary>The lines from byte <paramref name="first"/> to byte <paramref name="last"/> of a page, as in <see cref="Lines"/>.</summary>
    public static ulong LinesOf(int first, int last)
    {
        var top = last >> 6;
        var upTo = top == 63 ? ulong.MaxValue : (1UL << (top + 1)) - 1;
        return upTo & ~((1UL << (first >> 6)) - 1);
    }

    /// <summary>False for a block that must not be remembered (code fetched from a device that reports no changes).</summary>
    public bool Cacheable { get; init; } = true;

    /// <summary>A jump to itself (<c>JMP $</c>), the trace repeating it: a spin that changes nothing but the clock.</summary>
    public bool SelfLoop { get; init; }

    public const ulong NoPage = ulong.MaxValue;

    /// <summary>
    /// For a block of one instruction that continues on the next linear page: the physical page (address &gt;&gt; 12)
    /// its remaining bytes came from, valid only while that linear page still maps there; else <see cref="NoPage"/>.
    /// </summary>
    public ulong SecondPage { get; init; } = NoPage;

    /// <summary>The 64-byte lines of <see cref="SecondPage"/> the instruction occupies.</summary>
    public ulong SecondLines { get; init; }
}
