using System.Buffers.Binary;
using Sim.Cpu.Memory;

namespace Sim.Platform.Firmware;

/// <summary>
/// QEMU's firmware configuration interface on its x86 I/O ports (docs/specs/fw_cfg.rst, hw/nvram/fw_cfg.c).
/// 510h–511h: a 16-bit write selects an item and rewinds it, an 8-bit read returns its next byte (0 past the
/// end or for an item that does not exist), 8-bit writes are ignored as QEMU 2.4+ ignores them, other
/// widths do nothing and read 0. 514h–51Bh: the DMA address register, big-endian, which reads as the
/// signature "QEMU CFG"; a 32-bit write at 514h sets the high half, one at 518h the low half and starts the
/// transfer the FWCfgDmaAccess structure at that address describes.
/// </summary>
public sealed class FwCfgDevice : IPortDevice
{
    public const int SelectorPortCount = 2;
    public const int DmaPortCount = 8;

    public const ulong DmaSignature = 0x51454D5520434647;

    /// <summary>FWCfgDmaAccess.control bits; the selector sits in bits 16–31 with <see cref="DmaSelect"/>.</summary>
    public const uint DmaError = 0x01;
    public const uint DmaRead = 0x02;
    public const uint DmaSkip = 0x04;
    public const uint DmaSelect = 0x08;
    public const uint DmaWrite = 0x10;

    public const int DmaAccessSize = 16;

    private readonly PhysicalMemory _memory;
    private readonly IReadOnlyDictionary<ushort, byte[]> _items;
    private byte[]? _current;
    private int _offset;
    private ulong _dmaAddress;

    public FwCfgDevice(PhysicalMemory memory, IReadOnlyDictionary<ushort, byte[]> items)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(items);
        _memory = memory;
        _items = items;
        Select(FwCfgKey.Signature);
    }

    public FwCfgDevice(PhysicalMemory memory, MachineConfig config) : this(memory, FwCfgItems.For(config)) { }

    /// <summary>Claims the selector/data ports and the DMA address ports of <see cref="ChipsetLayout"/>.</summary>
    public void Register(IoBus io)
    {
        ArgumentNullException.ThrowIfNull(io);
        io.Register(ChipsetLayout.FwCfgSelectorPort, SelectorPortCount, this);
        io.Register(ChipsetLayout.FwCfgDmaPort, DmaPortCount, this);
    }

    public uint Read(ushort port, int size)
    {
        if (port >= ChipsetLayout.FwCfgDmaPort)
        {
            var offset = port - ChipsetLayout.FwCfgDmaPort;
            uint value = 0;
            for (var i = 0; i < size && offset + i < DmaPortCount; i++)
                value |= (uint)(byte)(DmaSignature >> (8 * (7 - offset - i))) << (8 * i);
            return value;
        }
        return size == 1 ? NextByte() : 0u;
    }

    public void Write(ushort port, int size, uint value)
    {
        if (port < ChipsetLayout.FwCfgDmaPort)
        {
            if (size == 2) Select((ushort)value);
            return;
        }
        if (size != 4) return;
        if (port == ChipsetLayout.FwCfgDmaPort)
        {
            _dmaAddress = (ulong)BinaryPrimitives.ReverseEndianness(value) << 32;
        }
        else if (port == ChipsetLayout.FwCfgDmaPort + 4)
        {
            _dmaAddress |= BinaryPrimitives.ReverseEndianness(value);
            Transfer();
        }
    }

    private void Select(ushort key)
    {
        _offset = 0;
        _current = _items.GetValueOrDefault((ushort)(key & ~FwCfgKey.WriteChannel));
    }

    private byte NextByte() => _current is { } item && _offset < item.Length ? item[_offset++] : (byte)0;

    private bool InRam(ulong address, ulong length) => address <= _memory.RamSize && length <= _memory.RamSize - address;

    private void Transfer()
    {
        var at = _dmaAddress;
        _dmaAddress = 0;
        if (!InRam(at, DmaAccessSize)) return;
        Span<byte> access = stackalloc byte[DmaAccessSize];
        _memory.ReadBytes(at, access);
        var control = BinaryPrimitives.ReadUInt32BigEndian(access);
        var length = BinaryPrimitives.ReadUInt32BigEndian(access[4..]);
        var address = BinaryPrimitives.ReadUInt64BigEndian(access[8..]);

        if ((control & DmaSelect) != 0) Select((ushort)(control >> 16));
        bool read = false, write = false;
        if ((control & DmaRead) != 0) read = true;
        else if ((control & DmaWrite) != 0) write = true;
        else if ((control & DmaSkip) == 0) length = 0;

        var result = 0u;
        while (length > 0 && result == 0)
        {
            var item = _current;
            var available = item is not null && _offset < item.Length ? item.Length - _offset : 0;
            uint chunk = available == 0 ? length : Math.Min(length, (uint)available);
            if (read)
            {
                if (!InRam(address, chunk)) result = DmaError;
                else if (available == 0) _memory.Zero(address, chunk);
                else _memory.WriteBytes(address, item.AsSpan(_offset, (int)chunk));
            }
            // No item here is writable: QEMU fails a DMA write to a read-only item.
            if (write) result = DmaError;
            if (available > 0) _offset += (int)chunk;
            address += chunk;
            length -= chunk;
        }
        Span<byte> status = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(status, result);
        _memory.WriteBytes(at, status);
    }
}
