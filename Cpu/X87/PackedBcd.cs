using System.Buffers.Binary;

namespace Sim.Cpu.X87;

/// <summary>
/// The 80-bit packed BCD integer of FBLD and FBSTP (SDM vol. 1, 4.7): eighteen digits, two a byte, least significant
/// first, in bytes 0–8, and the sign in bit 7 of byte 9.
/// </summary>
public readonly struct PackedBcd(ushort high, ulong low) : IEquatable<PackedBcd>
{
    /// <summary>The packed BCD integer indefinite FBSTP stores for an invalid operand.</summary>
    public static PackedBcd Indefinite => new(0xFFFF, 0xC000_0000_0000_0000);

    /// <summary>Bytes 9 and 8: the sign byte and digits 17 and 16.</summary>
    public ushort High { get; } = high;

    /// <summary>Bytes 7 to 0: digits 15 to 0.</summary>
    public ulong Low { get; } = low;

    public bool Sign => (High & 0x8000) != 0;

    public static PackedBcd Read(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]), BinaryPrimitives.ReadUInt64LittleEndian(bytes));

    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Low);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[8..], High);
    }

    public bool Equals(PackedBcd other) => High == other.High && Low == other.Low;

    public override bool Equals(object? obj) => obj is PackedBcd other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(High, Low);

    public static bool operator ==(PackedBcd left, PackedBcd right) => left.Equals(right);

    public static bool operator !=(PackedBcd left, PackedBcd right) => !left.Equals(right);

    public override string ToString() => $"{High:X4}{Low:X16}";
}
