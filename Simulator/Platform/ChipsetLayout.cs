namespace Sim.Platform;

/// <summary>
/// Where the PC's interrupt controllers, timers and ACPI registers live, as on QEMU's PC machines (so
/// that kernels and firmware written for QEMU find them there). The devices are placed and the ACPI
/// and MP tables describe them from these numbers.
/// </summary>
public static class ChipsetLayout
{
    /// <summary>IA32_APIC_BASE's reset value of the base (SDM vol. 3, 11.4.4).</summary>
    public const ulong LocalApicBase = 0xFEE0_0000;

    public const ulong IoApicBase = 0xFEC0_0000;

    /// <summary>The 82093AA's 24 redirection entries, GSIs 0–23.</summary>
    public const int IoApicPins = 24;

    public const ulong HpetBase = 0xFED0_0000;

    /// <summary>The ACPI PM I/O block (PIIX4 PMBA as QEMU's firmware programs it): PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR_BLK.</summary>
    public const ushort PmBase = 0x600;
    public const ushort Pm1aEventBlock = PmBase;
    public const ushort Pm1aControlBlock = PmBase + 4;
    public const ushort PmTimerBlock = PmBase + 8;

    /// <summary>The ACPI PM timer's frequency (ACPI 6.5, 4.8.3.3).</summary>
    public const ulong PmTimerFrequencyHz = 3_579_545;

    /// <summary>The SCI's ISA IRQ (and GSI), level-triggered, active high, as on QEMU.</summary>
    public const int SciIrq = 9;

    /// <summary>SLP_TYP for S5 (soft off) in PM1_CNT, as the PIIX4 encodes it and QEMU's DSDT declares \_S5.</summary>
    public const int SoftOffSleepType = 0;

    /// <summary>The FADT's RESET_REG: writing <see cref="ResetValue"/> to port 0CF9h resets the machine.</summary>
    public const ushort ResetPort = 0xCF9;
    public const byte ResetValue = 0x06;

    /// <summary>QEMU's firmware configuration interface: selector (16-bit), data (8-bit), DMA address (64-bit, big-endian).</summary>
    public const ushort FwCfgSelectorPort = 0x510;
    public const ushort FwCfgDataPort = 0x511;
    public const ushort FwCfgDmaPort = 0x514;

    /// <summary>
    /// The I/O APIC's ID as the firmware programs it and the MADT and MP tables give it: the first
    /// ID after the processors' while the 82093AA's 4-bit ID register can hold it, else 0 (as QEMU's
    /// always is; with system-bus delivery it need not differ from the local APICs').
    /// </summary>
    public static byte IoApicId(int cpus) => cpus < 16 ? (byte)cpus : (byte)0;

    /// <summary>The GSI an ISA IRQ arrives on at the I/O APIC: IRQ 0 (the PIT) on GSI 2, the others on their own number.</summary>
    public static int GsiOfIsaIrq(int irq) => irq == 0 ? 2 : irq;
}
