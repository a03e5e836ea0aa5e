using System.Buffers.Binary;

namespace Sim.Platform.Firmware;

/// <summary>ACPI's Generic Address Structure (ACPI 6.5, 5.2.3.2): 12 bytes that say where a register is.</summary>
public readonly record struct GenericAddress(byte AddressSpaceId, byte RegisterBitWidth, byte RegisterBitOffset, byte AccessSize, ulong Address)
{
    public const int Size = 12;

    public const byte SystemMemory = 0;
    public const byte SystemIo = 1;

    public const byte ByteAccess = 1;
    public const byte WordAccess = 2;
    public const byte DwordAccess = 3;

    public static GenericAddress Io(ushort port, byte bitWidth, byte accessSize) => new(SystemIo, bitWidth, 0, accessSize, port);

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = AddressSpaceId;
        destination[1] = RegisterBitWidth;
        destination[2] = RegisterBitOffset;
        destination[3] = AccessSize;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[4..], Address);
    }
}
