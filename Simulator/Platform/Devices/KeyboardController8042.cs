namespace Sim.Platform.Devices;

/// <summary>
/// The 8042 keyboard controller at ports 0x60 (data) and 0x64 (status/command), as far as system
/// software uses it without a keyboard: the command byte, self tests, reading and writing the output
/// port (bit 0 is the reset line, bit 1 the A20 gate), the 0xDD/0xDF A20 shortcuts and the 0xF0–0xFF
/// reset pulse. Commands sent to the keyboard itself are acknowledged with 0xFA; no keys are pressed.
/// </summary>
public sealed class KeyboardController8042 : IPortDevice
{
    public const ushort DataPort = 0x60;
    public const ushort StatusPort = 0x64;

    private const byte StatusOutputFull = 0x01, StatusSystemFlag = 0x04, StatusCommand = 0x08;

    /// <summary>
    /// Bytes waiting for the output buffer: the keyboard holds its replies in a 16-byte buffer (IBM
    /// PS/2 keyboard technical reference) and further ones are lost, so a guest that never reads
    /// cannot grow this without bound.
    /// </summary>
    private const int OutputCapacity = 16;

    private readonly A20Gate _a20;
    private readonly MachineControl _control;
    private readonly Queue<byte> _output = new();
    private byte _outputBuffer;
    private byte _pendingCommand;
    private bool _lastWriteWasCommand;

    public KeyboardController8042(A20Gate a20, MachineControl control)
    {
        _a20 = a20;
        _control = control;
    }

    /// <summary>The controller command byte (0x20/0x60): keyboard interrupt enabled, system flag set, translation on.</summary>
    public byte CommandByte { get; private set; } = 0x45;

    /// <summary>Output port: bit 0 reset line (high = running), bit 1 A20.</summary>
    public byte OutputPort => (byte)(0x01 | (_a20.FromKeyboardController ? 0x02 : 0));

    public uint Read(ushort port, int size)
    {
        if (port == StatusPort)
        {
            var status = StatusSystemFlag;
            if (_output.Count > 0) status |= StatusOutputFull;
            if (_lastWriteWasCommand) status |= StatusCommand;
            return status;
        }
        // The output buffer keeps its last byte; reading it again with OBF clear returns it again.
        if (_output.Count > 0) _outputBuffer = _output.Dequeue();
        return _outputBuffer;
    }

    private void QueueOutput(byte value)
    {
        if (_output.Count < OutputCapacity) _output.Enqueue(value);
    }

    public void Write(ushort port, int size, uint value)
    {
        var b = (byte)value;
        _lastWriteWasCommand = port == StatusPort;
        if (port == StatusPort) Command(b);
        else Data(b);
    }

    private void Command(byte command)
    {
        _pendingCommand = 0;
        switch (command)
        {
            case 0x20: QueueOutput(CommandByte); break;
            case 0x60:
            case 0xD1:
                _pendingCommand = command;
                break;
            case 0xAA: QueueOutput(0x55); break;
            case 0xAB: QueueOutput(0x00); break;
            case 0xD0: QueueOutput(OutputPort); break;
            case 0xDD: _a20.FromKeyboardController = false; break;
            case 0xDF: _a20.FromKeyboardController = true; break;
            default:
                // 0xF0–0xFF pulse the output-port bits whose command bit is 0; bit 0 is the reset line.
                if (command >= 0xF0 && (command & 0x01) == 0) _control.RequestReset("8042 pulse output port");
                break;
        }
    }

    private void Data(byte value)
    {
        switch (_pendingCommand)
        {
            case 0x60:
                CommandByte = value;
                break;
            case 0xD1:
                _a20.FromKeyboardController = (value & 0x02) != 0;
                if ((value & 0x01) == 0) _control.RequestReset("8042 output port");
                break;
            default:
                QueueOutput(0xFA);
                if (value == 0xFF) QueueOutput(0xAA);
                break;
        }
        _pendingCommand = 0;
    }
}
