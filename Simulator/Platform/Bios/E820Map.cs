namespace Sim.Platform.Bios;

/// <summary>The system memory map INT 15h AX=E820h reports (ACPI address range types 1 = usable, 2 = reserved).</summary>
public static class E820Map
{
    public const uint Usable = 1;
    public const uint Reserved = 2;

    /// <summary>The extended BIOS data area: the last KiB below 640 KiB.</summary>
    public const ulong EbdaBase = 0x9FC00;

    /// <summary>E0000h–EFFFFh holds the ACPI and MP tables (<see cref="Firmware.FirmwareLayout"/>), F0000h–FFFFFh the BIOS ROM.</summary>
    public const ulong FirmwareAreaBase = 0xE0000;

    public const ulong RomBase = 0xF0000;

    public static IReadOnlyList<(ulong Base, ulong Length, uint Type)> For(ulong ramBytes) =>
    [
        (0, EbdaBase, Usable),
        (EbdaBase, 0xA0000 - EbdaBase, Reserved),
        (FirmwareAreaBase, 0x100000 - FirmwareAreaBase, Reserved),
        (0x100000, ramBytes - 0x100000, Usable),
    ];
}
