using Sim.Cpu.Memory;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// The physical memory a kernel model keeps for itself — UTCBs, VMCSs, VMCBs, EPT and nested page
/// tables, its GDT and page tables — carved from a window of the machine's RAM that guests never
/// get. Pages come back zeroed; freed pages are reused lowest address first, so a run's layout
/// depends only on its sequence of requests.
/// </summary>
public sealed class KernelMemory
{
    private readonly SortedSet<ulong> _free = new();
    private ulong _next;

    public KernelMemory(PhysicalMemory memory, ulong baseAddress, ulong size)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if ((baseAddress | size) % PhysicalMemory.PageSize != 0) throw new ArgumentException("kernel memory must be page aligned");
        if (size == 0 || baseAddress + size > memory.RamSize) throw new ArgumentException("kernel memory must lie in RAM");
        Memory = memory;
        Base = baseAddress;
        Size = size;
        _next = baseAddress;
    }

    public PhysicalMemory Memory { get; }

    public ulong Base { get; }

    public ulong Size { get; }

    /// <summary>Pages handed out and not freed.</summary>
    public ulong PagesInUse { get; private set; }

    /// <summary>Whether <see cref="AllocatePages"/> can satisfy a request of <paramref name="count"/> contiguous pages.</summary>
    public bool CanAllocate(int count) => (count == 1 && _free.Count > 0) || _next + (ulong)count * PhysicalMemory.PageSize <= Base + Size;

    /// <summary>One zeroed page, or null when the window is exhausted (the caller reports its kernel's out-of-memory status).</summary>
    public ulong? AllocatePage() => AllocatePages(1);

    /// <summary><paramref name="count"/> contiguous zeroed pages, naturally aligned to their total size when that is a power of two.</summary>
    public ulong? AllocatePages(int count)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count));
        ulong address;
        if (count == 1 && _free.Count > 0)
        {
            address = _free.Min;
            _free.Remove(address);
        }
        else
        {
            var bytes = (ulong)count * PhysicalMemory.PageSize;
            var aligned = (count & (count - 1)) == 0 ? (_next + bytes - 1) & ~(bytes - 1) : _next;
            if (aligned + bytes > Base + Size) return null;
            for (var skipped = _next; skipped < aligned; skipped += PhysicalMemory.PageSize) _free.Add(skipped);
            address = aligned;
            _next = aligned + bytes;
        }
        Memory.Zero(address, (ulong)count * PhysicalMemory.PageSize);
        PagesInUse += (ulong)count;
        return address;
    }

    public void FreePage(ulong address)
    {
        if (address < Base || address >= _next || address % PhysicalMemory.PageSize != 0 || !_free.Add(address))
            throw new ArgumentException($"{address:x} is not an allocated kernel page");
        PagesInUse--;
    }
}
