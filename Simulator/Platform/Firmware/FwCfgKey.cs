namespace Sim.Platform.Firmware;

/// <summary>The fw_cfg selector keys of QEMU's docs/specs/fw_cfg.rst used here.</summary>
public static class FwCfgKey
{
    public const ushort Signature = 0x00;
    public const ushort Id = 0x01;
    public const ushort Uuid = 0x02;
    public const ushort RamSize = 0x03;
    public const ushort NoGraphic = 0x04;
    public const ushort NbCpus = 0x05;
    public const ushort MaxCpus = 0x0F;
    public const ushort FileDir = 0x19;
    public const ushort FileFirst = 0x20;

    /// <summary>Bit 14 of a key selects the write channel of the same item, bit 15 the architecture-specific items.</summary>
    public const ushort WriteChannel = 0x4000;
    public const ushort ArchLocal = 0x8000;

    /// <summary>FW_CFG_ID bits: the traditional interface and the DMA interface.</summary>
    public const uint IdTraditional = 1 << 0;
    public const uint IdDma = 1 << 1;
}
