using System.Runtime.InteropServices;
using Sim.Cpu.Bus;

namespace Sim.Cpu.Memory;

/// <summary>
/// The physical address space: RAM as one contiguous native block from address 0 (reserved up
/// front, committed by the host as the guest touches it), with 4 KiB pages
/// that devices claim for MMIO laid over it (or above it). Addresses that neither RAM nor a device
/// backs read as all ones and ignore writes, as on a PC bus with nothing decoding them.
/// </summary>
public sealed unsafe class PhysicalMemory : IDisposable
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;

    public const ulong MaximumRamSize = 64UL << 30;

    private const byte KindMmio = 1;
    private const byte KindCode = 2;

    private readonly byte* _ram;
    private readonly byte[] _pageFlags;
    private readonly Dictionary<ulong, IMmioDevice> _mmioPages = new();
    private readonly List<Processor> _processors = new();
    private bool _disposed;

    public PhysicalMemory(ulong ramSize)
    {
        if (ramSize == 0 || (ramSize & (PageSize - 1)) != 0)
            throw new ArgumentException("RAM size must be a non-zero multiple of 4 KiB.", nameof(ramSize));
        if (ramSize > MaximumRamSize)
            throw new ArgumentException("RAM size is limited to 64 GiB.", nameof(ramSize));
        RamSize = ramSize;
        _ram = HostPages.Reserve(ramSize);
        _pageFlags = new byte[ramSize >> PageShift];
        CodeCache = new DecodedBlockCache(this);
    }

    public ulong RamSize { get; }

    /// <summary>Host address of guest-physical address 0. Valid for [0, RamSize).</summary>
    public byte* RamBase => _ram;

    /// <summary>The decoded-instruction cache shared by every processor on this memory.</summary>
    internal DecodedBlockCache CodeCache { get; }

    /// <summary>Mask applied to every physical address a processor generates: bit 20 is cleared while the A20 gate is closed.</summary>
    public ulong A20Mask { get; private set; } = ~0UL;

    public bool A20Enabled
    {
        get => A20Mask == ~0UL;
        set
        {
            var mask = value ? ~0UL : ~(1UL << 20);
            if (mask == A20Mask) return;
            A20Mask = mask;
            FlushAllTranslations();
        }
    }

    internal void Attach(Processor processor) => _processors.Add(processor);

    /// <summary>Lays a device over [address, address + size), page-granular.</summary>
    public void MapMmio(ulong address, ulong size, IMmioDevice device)
    {
        if ((address & (PageSize - 1)) != 0 || (size & (PageSize - 1)) != 0 || size == 0)
            throw new ArgumentException("MMIO ranges must be whole 4 KiB pages.");
        for (ulong page = address >> PageShift; page < (address + size) >> PageShift; page++)
        {
            _mmioPages[page] = device;
            if (page < (ulong)_pageFlags.Length) _pageFlags[page] |= KindMmio;
        }
        FlushAllTranslations();
    }

    public IMmioDevice? MmioAt(ulong address) =>
        _mmioPages.TryGetValue(address >> PageShift, out var device) ? device : null;

    /// <summary>Whether the page holding <paramref name="address"/> is plain RAM, i.e. may be reached through a host pointer.</summary>
    public bool IsRam(ulong address)
    {
        var page = address >> PageShift;
        return page < (ulong)_pageFlags.Length && (_pageFlags[page] & KindMmio) == 0;
    }

    /// <summary>Whether decoded code at <paramref name="address"/> may be cached: RAM, whose writes are seen, or a device whose bytes never change.</summary>
    internal bool HoldsCacheableCode(ulong address) => IsRam(address) || MmioAt(address) is IReadOnlyMemoryDevice;

    internal bool IsCodePage(ulong page) => page < (ulong)_pageFlags.Length && (_pageFlags[page] & KindCode) != 0;

    /// <summary>Marks a RAM page as holding decoded code, so that writes to it go the slow way and invalidate.</summary>
    internal void MarkCodePage(ulong page)
    {
        // A read-only device above RAM has no page flags: nothing can write its code.
        if (page >= (ulong)_pageFlags.Length || (_pageFlags[page] & KindCode) != 0) return;
        _pageFlags[page] |= KindCode;
        foreach (var p in _processors) p.Tlb.DropWritableHost(page << PageShift);
    }

    /// <summary>Called on a write to RAM: decoded code in the lines written is dropped (with the rest of its page).</summary>
    internal void NotifyWrite(ulong address, int size)
    {
        InvalidateCode(address, (ulong)size);
    }

    private void InvalidateCode(ulong address, ulong length)
    {
        var end = address + length - 1;
        var first = address >> PageShift;
        var last = end >> PageShift;
        for (var page = first; page <= last; page++)
        {
            if (page < (ulong)_pageFlags.Length && (_pageFlags[page] & KindCode) != 0)
            {
                var from = page == first ? (int)(address & (PageSize - 1)) : 0;
                var to = page == last ? (int)(end & (PageSize - 1)) : (int)PageSize - 1;
                if (CodeCache.Written(page, from, to)) _pageFlags[page] &= unchecked((byte)~KindCode);
            }
        }
    }

    private void FlushAllTranslations()
    {
        foreach (var p in _processors) p.FlushTranslations();
    }

    /// <summary>A physical read of 1, 2, 4 or 8 bytes, the way the bus does it (RAM, MMIO or open bus).</summary>
    public ulong Read(ulong address, int size)
    {
        if (address <= RamSize - (ulong)size && (_pageFlags[address >> PageShift] & KindMmio) == 0
            && ((address & (PageSize - 1)) + (ulong)size <= PageSize || IsRam(address + (ulong)size - 1)))
        {
            var p = _ram + address;
            return HostAccess.Load(p, size);
        }
        if ((address & (PageSize - 1)) + (ulong)size > PageSize)
        {
            ulong v = 0;
            for (var i = 0; i < size; i++) v |= Read(address + (ulong)i, 1) << (8 * i);
            return v;
        }
        var device = MmioAt(address);
        if (device != null) return device.Read(address, size);
        return size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
    }

    /// <summary>A physical write of 1, 2, 4 or 8 bytes.</summary>
    public void Write(ulong address, int size, ulong value)
    {
        if ((address & (PageSize - 1)) + (ulong)size > PageSize)
        {
            for (var i = 0; i < size; i++) Write(address + (ulong)i, 1, value >> (8 * i));
            return;
        }
        if (address <= RamSize - (ulong)size && (_pageFlags[address >> PageShift] & KindMmio) == 0)
        {
            var p = _ram + address;
            HostAccess.Store(p, size, value);
            NotifyWrite(address, size);
            return;
        }
        MmioAt(address)?.Write(address, size, value);
    }

    public void WriteBytes(ulong address, ReadOnlySpan<byte> data)
    {
        if (address > RamSize || (ulong)data.Length > RamSize - address)
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x}+0x{data.Length:x} lies outside RAM (0x{RamSize:x} bytes).");
        data.CopyTo(new Span<byte>(_ram + address, data.Length));
        if (data.Length > 0) NotifyWrite(address, data.Length);
    }

    /// <summary>Sets [address, address + length) of RAM to zeros; whole pages go back to the host.</summary>
    public void Zero(ulong address, ulong length)
    {
        if (address > RamSize || length > RamSize - address)
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x}+0x{length:x} lies outside RAM (0x{RamSize:x} bytes).");
        if (length == 0) return;
        var firstPage = (address + PageSize - 1) & ~(PageSize - 1);
        var endPage = (address + length) & ~(PageSize - 1);
        if (firstPage >= endPage)
        {
            NativeMemory.Clear(_ram + address, (nuint)length);
        }
        else
        {
            NativeMemory.Clear(_ram + address, (nuint)(firstPage - address));
            HostPages.Discard(_ram + firstPage, endPage - firstPage);
            NativeMemory.Clear(_ram + endPage, (nuint)(address + length - endPage));
        }
        InvalidateCode(address, length);
    }

    /// <summary>
    /// RAM at [address, address + length) as a host span, for host software that accesses a structure of its own (a
    /// kernel's UTCB) word by word. Decoded code in the range is dropped now, as a write would drop it, so the span may
    /// be written until a processor executes again. Throws for a range not wholly in RAM or laid over by a device.
    /// </summary>
    public Span<byte> RamSpan(ulong address, int length)
    {
        CheckRam(address, length);
        if (length > 0) NotifyWrite(address, length);
        return new Span<byte>(_ram + address, length);
    }

    /// <summary>RAM at [address, address + length) as a read-only host span; throws as <see cref="RamSpan"/> does.</summary>
    public ReadOnlySpan<byte> RamBytes(ulong address, int length)
    {
        CheckRam(address, length);
        return new ReadOnlySpan<byte>(_ram + address, length);
    }

    private void CheckRam(ulong address, int length)
    {
        if (length < 0 || address > RamSize || (ulong)length > RamSize - address)
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x}+0x{length:x} lies outside RAM (0x{RamSize:x} bytes).");
        for (var page = address >> PageShift; length > 0 && page <= (address + (ulong)length - 1) >> PageShift; page++)
            if ((_pageFlags[page] & KindMmio) != 0)
                throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x}+0x{length:x} reaches a device's page.");
    }

    public void ReadBytes(ulong address, Span<byte> data)
    {
        if (address > RamSize || (ulong)data.Length > RamSize - address)
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x}+0x{data.Length:x} lies outside RAM (0x{RamSize:x} bytes).");
        new Span<byte>(_ram + address, data.Length).CopyTo(data);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        HostPages.Release(_ram, RamSize);
        GC.SuppressFinalize(this);
    }

    ~PhysicalMemory()
    {
        if (!_disposed) HostPages.Release(_ram, RamSize);
    }
}
