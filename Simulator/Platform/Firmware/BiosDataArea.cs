using System.Buffers.Binary;
using Sim.Cpu.Memory;
using Sim.Platform.Bios;

namespace Sim.Platform.Firmware;

/// <summary>
/// The BIOS data area at 400h and the extended BIOS data area as a PC BIOS's POST leaves them, for every
/// boot path: COM1 at 3F8h (no COM2–4, no LPT), the EBDA segment, the equipment word, 639 KiB of base
/// memory and an 80x25 colour text mode. What depends on the disks the BIOS serves is added by <see cref="BiosRom"/>.
/// </summary>
public static class BiosDataArea
{
    public const ulong Base = 0x400;
    public const int Size = 256;

    public const int ComPortsOffset = 0x00;
    public const int LptPortsOffset = 0x08;
    public const int EbdaSegmentOffset = 0x0E;
    public const int EquipmentOffset = 0x10;
    public const int BaseMemoryOffset = 0x13;
    public const int VideoModeOffset = 0x49;
    public const int VideoColumnsOffset = 0x4A;
    public const int HardDiskCountOffset = 0x75;
    public const int VideoRowsOffset = 0x84;

    public const ushort Com1Port = 0x3F8;

    /// <summary>Bits 4–5 = 10b: 80x25 colour; bits 9–11: one serial port. Bit 0 (a floppy drive) is the BIOS's to set.</summary>
    public const ushort Equipment = 0x0020 | 1 << 9;
    public const ushort EquipmentFloppy = 0x0001;

    /// <summary>The EBDA's size in KiB, its first byte.</summary>
    public const byte EbdaSizeKiB = 1;

    public static void Install(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var bda = new byte[Size];
        var s = bda.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(s[ComPortsOffset..], Com1Port);
        BinaryPrimitives.WriteUInt16LittleEndian(s[EbdaSegmentOffset..], (ushort)(E820Map.EbdaBase >> 4));
        BinaryPrimitives.WriteUInt16LittleEndian(s[EquipmentOffset..], Equipment);
        BinaryPrimitives.WriteUInt16LittleEndian(s[BaseMemoryOffset..], (ushort)(E820Map.EbdaBase / 1024));
        s[VideoModeOffset] = 0x03;
        BinaryPrimitives.WriteUInt16LittleEndian(s[VideoColumnsOffset..], 80);
        s[VideoRowsOffset] = 24;
        memory.WriteBytes(Base, bda);

        var ebda = new byte[EbdaSizeKiB * 1024];
        ebda[0] = EbdaSizeKiB;
        memory.WriteBytes(E820Map.EbdaBase, ebda);
    }
}
