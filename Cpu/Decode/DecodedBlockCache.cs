using Sim.Cpu.Memory;

namespace Sim.Cpu;

/// <summary>
/// Decoded blocks by physical start address and code size, shared by the processors on one
/// physical memory. A page with blocks is marked as code, so that writes to it are seen; the first
/// write to a 64-byte line that holds decoded code drops all of the page's blocks. Writes beside the
/// code (a stack or data sharing the page) leave them, as a processor's self-modifying-code
/// detection does not fire for them either.
/// </summary>
internal sealed class DecodedBlockCache
{
    private readonly PhysicalMemory _memory;
    private readonly Dictionary<ulong, DecodedBlock> _blocks = new();
    private readonly Dictionary<ulong, List<DecodedBlock>> _byPage = new();
    private readonly Dictionary<ulong, ulong> _linesByPage = new();

    public DecodedBlockCache(PhysicalMemory memory) => _memory = memory;

    public long Invalidations { get; private set; }

    private static ulong Key(ulong physical, int bitness) => (physical << 2) | (uint)(bitness >> 5);

    public DecodedBlock? Find(ulong physical, int bitness) =>
        _blocks.TryGetValue(Key(physical, bitness), out var b) ? b : null;

    public void Add(DecodedBlock block)
    {
        _blocks[Key(block.PhysicalStart, block.Bitness)] = block;
        AddToPage(block.PhysicalStart >> PhysicalMemory.PageShift, block, block.Lines);
        // An instruction continuing on another page is dropped by writes to either page.
        if (block.SecondPage != DecodedBlock.NoPage) AddToPage(block.SecondPage, block, block.SecondLines);
    }

    private void AddToPage(ulong page, DecodedBlock block, ulong lines)
    {
        if (!_byPage.TryGetValue(page, out var list)) _byPage[page] = list = new List<DecodedBlock>();
        list.Add(block);
        _linesByPage[page] = _linesByPage.GetValueOrDefault(page) | lines;
        _memory.MarkCodePage(page);
    }

    /// <summary>
    /// A write to bytes <paramref name="first"/> to <paramref name="last"/> of a code page: drops the
    /// page's blocks if a written line holds decoded code; true when it did.
    /// </summary>
    public bool Written(ulong page, int first, int last)
    {
        if (_linesByPage.TryGetValue(page, out var lines) && (lines & DecodedBlock.LinesOf(first, last)) == 0) return false;
        InvalidatePage(page);
        return true;
    }

    private void InvalidatePage(ulong page)
    {
        _linesByPage.Remove(page);
        if (!_byPage.Remove(page, out var list)) return;
        foreach (var b in list)
        {
            b.Valid = false;
            // The key may name a newer block by now (decoded again for another CS limit or second page).
            var key = Key(b.PhysicalStart, b.Bitness);
            if (_blocks.TryGetValue(key, out var current) && current == b) _blocks.Remove(key);
        }
        Invalidations++;
    }
}
