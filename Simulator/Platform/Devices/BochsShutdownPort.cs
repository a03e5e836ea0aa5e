namespace Sim.Platform.Devices;

/// <summary>
/// Bochs's shutdown port 0x8900: the characters of "Shutdown" written one by one, in order, power the
/// machine off. Any other character restarts the match, as in Bochs.
/// </summary>
public sealed class BochsShutdownPort : IPortDevice
{
    public const ushort Port = 0x8900;
    private const string Magic = "Shutdown";

    private readonly MachineControl _control;
    private int _matched;

    public BochsShutdownPort(MachineControl control) => _control = control;

    public uint Read(ushort port, int size) => 0xFFFF_FFFFu >> (32 - 8 * size);

    public void Write(ushort port, int size, uint value)
    {
        var c = (char)(byte)value;
        if (c == Magic[_matched]) _matched++;
        else _matched = c == Magic[0] ? 1 : 0;
        if (_matched < Magic.Length) return;
        _matched = 0;
        _control.RequestExit(RunOutcome.BochsShutdown, 0, "Bochs shutdown port: guest wrote \"Shutdown\" to port 0x8900");
    }
}
