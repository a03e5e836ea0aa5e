using Sim.Cpu.Memory;

namespace Sim.Cpu;

/// <summary>
/// Decoded blocks by physical start address and code size, shared by the processors on one
/// physical memory. A page with blocks is marked as code, so that the first write to it drops all
/// of them.
/// </summary>
internal sealed class DecodedBlockCache
{
    private readonly PhysicalMemory _memory;
    private readonly Dictionary<ulong, DecodedBlock> _blocks = new();
    private readonly Dictionary<ulong, List<DecodedBlock>> _byPage = new();

    public DecodedBlockCache(PhysicalMemory memory) => _memory = memory;

    public long Invalidations { get; private set; }

    private static ulong Key(ulong physical, int bitness) => (physical << 2) | (uint)(bitness >> 5);

    public DecodedBlock? Find(ulong physical, int bitness) =>
        _blocks.TryGetValue(Key(physical, bitness), out var b) ? b : null;

    public void Add(DecodedBlock block)
    {
        var page = block.PhysicalStart >> PhysicalMemory.PageShift;
        _blocks[Key(block.PhysicalStart, block.Bitness)] = block;
        if (!_byPage.TryGetValue(page, out var list)) _byPage[page] = list = new List<DecodedBlock>();
        list.Add(block);
        _memory.MarkCodePage(page);
    }

    public void InvalidatePage(ulong page)
    {
        if (!_byPage.Remove(page, out var list)) return;
        foreach (var b in list)
        {
            b.Valid = false;
            _blocks.Remove(Key(b.PhysicalStart, b.Bitness));
        }
        Invalidations++;
    }
}
