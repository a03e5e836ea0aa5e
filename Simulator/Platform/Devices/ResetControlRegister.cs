namespace Sim.Platform.Devices;

/// <summary>
/// Port 0xCF9, the PIIX/ICH reset control register: bit 2 (RST_CPU) set together with bit 1
/// (SYS_RST, hard) or alone (soft) resets the machine; 0x06 and 0x0E are the values software writes.
/// </summary>
public sealed class ResetControlRegister : IPortDevice
{
    public const ushort Port = 0xCF9;

    private readonly MachineControl _control;
    private byte _value;

    public ResetControlRegister(MachineControl control) => _control = control;

    public uint Read(ushort port, int size) => size == 1 ? _value : 0xFFFF_FFFFu >> (32 - 8 * size);

    public void Write(ushort port, int size, uint value)
    {
        // Only byte accesses hit 0xCF9; a dword access to 0xCF8 is the PCI configuration address.
        if (size != 1) return;
        var b = (byte)(value & 0x0E);
        var reset = (b & 0x04) != 0 && (_value & 0x04) == 0;
        _value = (byte)(b & ~0x04);
        if (reset) _control.RequestReset("port 0xCF9");
    }
}
