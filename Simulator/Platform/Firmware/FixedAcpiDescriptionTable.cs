using System.Buffers.Binary;

namespace Sim.Platform.Firmware;

/// <summary>
/// The FADT, revision 3 (ACPI 6.5, 5.2.9, the 244-byte layout up to X_GPE1_BLK), describing the PIIX4-style
/// PM block of <see cref="ChipsetLayout"/> with the values QEMU's PC machine uses: no SMI command port (ACPI
/// is always on, as QEMU without SMM), no GPE block, C2/C3 not supported, the RTC century at CMOS 32h.
/// </summary>
public static class FixedAcpiDescriptionTable
{
    public const int Length = 244;
    public const byte Revision = 3;

    public const int FirmwareCtrlOffset = 36;
    public const int DsdtOffset = 40;
    public const int PreferredPmProfileOffset = 45;
    public const int SciIntOffset = 46;
    public const int SmiCmdOffset = 48;
    public const int Pm1aEventBlockOffset = 56;
    public const int Pm1aControlBlockOffset = 64;
    public const int PmTimerBlockOffset = 76;
    public const int Gpe0BlockOffset = 80;
    public const int Pm1EventLengthOffset = 88;
    public const int Pm1ControlLengthOffset = 89;
    public const int PmTimerLengthOffset = 91;
    public const int PLevel2LatencyOffset = 96;
    public const int PLevel3LatencyOffset = 98;
    public const int CenturyOffset = 108;
    public const int IapcBootArchOffset = 109;
    public const int FlagsOffset = 112;
    public const int ResetRegisterOffset = 116;
    public const int ResetValueOffset = 128;
    public const int MinorVersionOffset = 131;
    public const int XFirmwareCtrlOffset = 132;
    public const int XDsdtOffset = 140;
    public const int XPm1aEventBlockOffset = 148;
    public const int XPm1aControlBlockOffset = 172;
    public const int XPmTimerBlockOffset = 208;

    public const byte Pm1EventLength = 4;
    public const byte Pm1ControlLength = 2;
    public const byte PmTimerLength = 4;

    /// <summary>Latencies above 100 (C2) and 1000 (C3) microseconds say the state is not supported.</summary>
    public const ushort CStateNotSupported = 0xFFF;

    public const ushort IapcLegacyDevices = 1 << 0;
    public const ushort Iapc8042 = 1 << 1;

    public const uint FlagWbinvd = 1 << 0;
    public const uint FlagProcC1 = 1 << 2;
    public const uint FlagPowerButton = 1 << 4;
    public const uint FlagSleepButton = 1 << 5;
    public const uint FlagRtcS4 = 1 << 7;
    public const uint FlagResetRegSup = 1 << 10;
    public const uint FlagUsePlatformClock = 1 << 15;
    public const uint FlagForceApicClusterModel = 1 << 18;

    /// <summary>
    /// The table with its FACS and DSDT pointers holding <paramref name="facs"/> and <paramref name="dsdt"/>
    /// (X_FIRMWARE_CTRL stays 0, as QEMU leaves it, since the FACS lies below 4 GiB) and its checksum at 0.
    /// </summary>
    public static byte[] Build(int cpus, uint facs, uint dsdt)
    {
        var t = SystemDescriptionTableHeader.Create("FACP", Length, Revision);
        var s = t.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s[FirmwareCtrlOffset..], facs);
        BinaryPrimitives.WriteUInt32LittleEndian(s[DsdtOffset..], dsdt);
        BinaryPrimitives.WriteUInt16LittleEndian(s[SciIntOffset..], ChipsetLayout.SciIrq);
        BinaryPrimitives.WriteUInt32LittleEndian(s[Pm1aEventBlockOffset..], ChipsetLayout.Pm1aEventBlock);
        BinaryPrimitives.WriteUInt32LittleEndian(s[Pm1aControlBlockOffset..], ChipsetLayout.Pm1aControlBlock);
        BinaryPrimitives.WriteUInt32LittleEndian(s[PmTimerBlockOffset..], ChipsetLayout.PmTimerBlock);
        s[Pm1EventLengthOffset] = Pm1EventLength;
        s[Pm1ControlLengthOffset] = Pm1ControlLength;
        s[PmTimerLengthOffset] = PmTimerLength;
        BinaryPrimitives.WriteUInt16LittleEndian(s[PLevel2LatencyOffset..], CStateNotSupported);
        BinaryPrimitives.WriteUInt16LittleEndian(s[PLevel3LatencyOffset..], CStateNotSupported);
        s[CenturyOffset] = (byte)Devices.RtcMc146818.CenturyIndex;
        BinaryPrimitives.WriteUInt16LittleEndian(s[IapcBootArchOffset..], IapcLegacyDevices | Iapc8042);
        // QEMU's flags; the power button stays a fixed feature (PWR_BUTTON clear), flat logical APIC mode stops at 8 CPUs.
        var flags = FlagWbinvd | FlagProcC1 | FlagSleepButton | FlagRtcS4 | FlagResetRegSup | FlagUsePlatformClock;
        if (cpus > 8) flags |= FlagForceApicClusterModel;
        BinaryPrimitives.WriteUInt32LittleEndian(s[FlagsOffset..], flags);
        GenericAddress.Io(ChipsetLayout.ResetPort, 8, GenericAddress.ByteAccess).WriteTo(s[ResetRegisterOffset..]);
        s[ResetValueOffset] = ChipsetLayout.ResetValue;
        BinaryPrimitives.WriteUInt64LittleEndian(s[XDsdtOffset..], dsdt);
        GenericAddress.Io(ChipsetLayout.Pm1aEventBlock, Pm1EventLength * 8, GenericAddress.WordAccess).WriteTo(s[XPm1aEventBlockOffset..]);
        GenericAddress.Io(ChipsetLayout.Pm1aControlBlock, Pm1ControlLength * 8, GenericAddress.WordAccess).WriteTo(s[XPm1aControlBlockOffset..]);
        GenericAddress.Io(ChipsetLayout.PmTimerBlock, PmTimerLength * 8, GenericAddress.DwordAccess).WriteTo(s[XPmTimerBlockOffset..]);
        return t;
    }
}
