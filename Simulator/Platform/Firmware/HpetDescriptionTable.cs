using System.Buffers.Binary;

namespace Sim.Platform.Firmware;

/// <summary>
/// The HPET description table (IA-PC HPET specification 1.0a, 3.2.4): the event timer block ID is the low
/// half of the block's General Capabilities and ID register, here QEMU's HPET (vendor 8086h, revision 1,
/// three comparators, 64-bit counter, legacy replacement routing), at <see cref="ChipsetLayout.HpetBase"/>.
/// </summary>
public static class HpetDescriptionTable
{
    public const int Length = 56;
    public const byte Revision = 1;

    public const int EventTimerBlockIdOffset = 36;
    public const int BaseAddressOffset = 40;
    public const int HpetNumberOffset = 52;
    public const int MinimumClockTickOffset = 53;
    public const int PageProtectionOffset = 55;

    public const ushort PciVendorId = 0x8086;
    public const byte HardwareRevisionId = 1;
    public const int Comparators = 3;
    public const uint LegacyReplacementCapable = 1u << 15;
    public const uint CounterSize64 = 1u << 13;

    /// <summary>The least periodic tick the OS may program, in main-counter ticks, as PC firmware commonly reports.</summary>
    public const ushort MinimumClockTick = 0x80;

    public static uint EventTimerBlockId =>
        (uint)PciVendorId << 16 | LegacyReplacementCapable | CounterSize64 | (uint)(Comparators - 1) << 8 | HardwareRevisionId;

    public static byte[] Build()
    {
        var t = SystemDescriptionTableHeader.Create("HPET", Length, Revision);
        var s = t.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s[EventTimerBlockIdOffset..], EventTimerBlockId);
        new GenericAddress(GenericAddress.SystemMemory, 64, 0, 0, ChipsetLayout.HpetBase).WriteTo(s[BaseAddressOffset..]);
        s[HpetNumberOffset] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(s[MinimumClockTickOffset..], MinimumClockTick);
        return t;
    }
}
