namespace Sim.Platform.Devices;

/// <summary>
/// A National Semiconductor PC16550D-compatible UART (the "16550A"), at COM1 by default: receiver
/// and transmitter holding registers with 16-byte FIFOs, IER, IIR/FCR, LCR with the divisor latch,
/// MCR with loopback, LSR, MSR and the scratch register. Transmission is instant (THRE and TEMT are
/// always set), bytes go to a <see cref="Stream"/> as they are, as QEMU writes them; received bytes come from an input queue,
/// moved into the receiver FIFO as it has room. As on the PC, MCR.OUT2 gates the interrupt onto the
/// bus, and the chip's interrupt output is a level.
/// </summary>
public sealed class Uart16550A : IPortDevice
{
    public const ushort Com1Port = 0x3F8;
    public const int Com1Irq = 4;

    private const int FifoSize = 16;

    private const byte IerRx = 0x01, IerThre = 0x02, IerLineStatus = 0x04, IerModemStatus = 0x08;
    private const byte LsrDr = 0x01, LsrOe = 0x02, LsrThre = 0x20, LsrTemt = 0x40;
    private const byte McrDtr = 0x01, McrRts = 0x02, McrOut1 = 0x04, McrOut2 = 0x08, McrLoop = 0x10;
    private const byte LcrDlab = 0x80;

    private readonly Stream _output;
    private readonly Queue<byte> _input;
    private readonly Queue<byte> _rxFifo = new();
    private byte _ier;
    private byte _fcr;
    private byte _lcr;
    private byte _mcr;
    private byte _lineErrors;
    private byte _msrDeltas;
    private byte _modemInputs;
    private bool _thrInterrupt;
    private bool _irqLevel;

    public Uart16550A(Stream output, Queue<byte>? input = null, ushort basePort = Com1Port)
    {
        _output = output;
        _input = input ?? new Queue<byte>();
        BasePort = basePort;
        _modemInputs = ExternalModemInputs;
        Refill();
    }

    public ushort BasePort { get; }

    /// <summary>The interrupt line as the ISA bus sees it (the machine wires it to IRQ 4 for COM1).</summary>
    public Action<bool>? IrqLevel { get; set; }

    public ushort DivisorLatch { get; private set; } = 12;

    public byte Scratch { get; private set; }

    public bool FifoEnabled => (_fcr & 0x01) != 0;

    private bool Loopback => (_mcr & McrLoop) != 0;

    /// <summary>With nothing attached the modem lines read as a ready null-modem: CTS, DSR and DCD asserted.</summary>
    private const byte ExternalModemInputs = 0xB0;

    /// <summary>Queues bytes for the receiver, as if they arrived on the line.</summary>
    public void EnqueueInput(ReadOnlySpan<byte> data)
    {
        foreach (var b in data) _input.Enqueue(b);
        Refill();
        UpdateIrq();
    }

    public uint Read(ushort port, int size)
    {
        byte value;
        switch (port - BasePort)
        {
            case 0:
                if ((_lcr & LcrDlab) != 0) return (byte)DivisorLatch;
                value = _rxFifo.Count > 0 ? _rxFifo.Dequeue() : (byte)0;
                Refill();
                break;
            case 1:
                return (_lcr & LcrDlab) != 0 ? (byte)(DivisorLatch >> 8) : _ier;
            case 2:
                value = InterruptIdentification();
                if ((value & 0x0F) == 0x02) _thrInterrupt = false;
                break;
            case 3: return _lcr;
            case 4: return _mcr;
            case 5:
                value = LineStatus();
                _lineErrors = 0;
                break;
            case 6:
                value = (byte)(_modemInputs | _msrDeltas);
                _msrDeltas = 0;
                break;
            default: return Scratch;
        }
        UpdateIrq();
        return value;
    }

    public void Write(ushort port, int size, uint value)
    {
        var b = (byte)value;
        switch (port - BasePort)
        {
            case 0:
                if ((_lcr & LcrDlab) != 0)
                {
                    DivisorLatch = (ushort)((DivisorLatch & 0xFF00) | b);
                    return;
                }
                Transmit(b);
                break;
            case 1:
                if ((_lcr & LcrDlab) != 0)
                {
                    DivisorLatch = (ushort)((DivisorLatch & 0x00FF) | (b << 8));
                    return;
                }
                // Datasheet: enabling the THRE interrupt while THR is empty raises it at once.
                if ((b & IerThre) != 0 && (_ier & IerThre) == 0) _thrInterrupt = true;
                _ier = (byte)(b & 0x0F);
                break;
            case 2: WriteFifoControl(b); break;
            case 3: _lcr = b; return;
            case 4:
                _mcr = (byte)(b & 0x1F);
                SetModemInputs(Loopback ? LoopbackModemInputs() : ExternalModemInputs);
                break;
            case 5:
            case 6:
                return;
            default:
                Scratch = b;
                return;
        }
        UpdateIrq();
    }

    /// <summary>What a write to THR does: the byte goes out on the line (or back to the receiver in loopback).</summary>
    public void Transmit(byte b)
    {
        if (Loopback) Receive(b);
        else _output.WriteByte(b);
        _thrInterrupt = true;
        UpdateIrq();
    }

    private void Receive(byte b)
    {
        if (_rxFifo.Count >= (FifoEnabled ? FifoSize : 1))
        {
            _lineErrors |= LsrOe;
            return;
        }
        _rxFifo.Enqueue(b);
    }

    private void Refill()
    {
        if (Loopback) return;
        var capacity = FifoEnabled ? FifoSize : 1;
        while (_rxFifo.Count < capacity && _input.Count > 0) _rxFifo.Enqueue(_input.Dequeue());
    }

    private void WriteFifoControl(byte b)
    {
        var enable = (b & 0x01) != 0;
        if (enable != FifoEnabled || (b & 0x02) != 0) _rxFifo.Clear();
        _fcr = enable ? (byte)(b & 0xC9) : (byte)0;
        Refill();
    }

    private int TriggerLevel => (_fcr >> 6) switch { 0 => 1, 1 => 4, 2 => 8, _ => 14 };

    private byte LineStatus() => (byte)((_rxFifo.Count > 0 ? LsrDr : 0) | _lineErrors | LsrThre | LsrTemt);

    /// <summary>IIR: the highest-priority pending interrupt, with bits 6–7 set while the FIFOs are enabled.</summary>
    private byte InterruptIdentification()
    {
        var fifoBits = FifoEnabled ? (byte)0xC0 : (byte)0;
        if ((_ier & IerLineStatus) != 0 && _lineErrors != 0) return (byte)(fifoBits | 0x06);
        if ((_ier & IerRx) != 0 && _rxFifo.Count > 0)
        {
            if (!FifoEnabled || _rxFifo.Count >= TriggerLevel) return (byte)(fifoBits | 0x04);
            // Below the trigger level the FIFO reports a character timeout once no more characters
            // arrive; input here arrives all at once, so the timeout is due immediately.
            return (byte)(fifoBits | 0x0C);
        }
        if ((_ier & IerThre) != 0 && _thrInterrupt) return (byte)(fifoBits | 0x02);
        if ((_ier & IerModemStatus) != 0 && _msrDeltas != 0) return fifoBits;
        return (byte)(fifoBits | 0x01);
    }

    private byte LoopbackModemInputs()
    {
        var m = 0;
        if ((_mcr & McrRts) != 0) m |= 0x10;
        if ((_mcr & McrDtr) != 0) m |= 0x20;
        if ((_mcr & McrOut1) != 0) m |= 0x40;
        if ((_mcr & McrOut2) != 0) m |= 0x80;
        return (byte)m;
    }

    private void SetModemInputs(byte inputs)
    {
        var changed = (byte)(inputs ^ _modemInputs);
        if ((changed & 0x10) != 0) _msrDeltas |= 0x01;
        if ((changed & 0x20) != 0) _msrDeltas |= 0x02;
        if ((_modemInputs & 0x40) != 0 && (inputs & 0x40) == 0) _msrDeltas |= 0x04;
        if ((changed & 0x80) != 0) _msrDeltas |= 0x08;
        _modemInputs = inputs;
    }

    private void UpdateIrq()
    {
        var level = (InterruptIdentification() & 0x01) == 0 && (_mcr & McrOut2) != 0 && !Loopback;
        if (level == _irqLevel) return;
        _irqLevel = level;
        IrqLevel?.Invoke(level);
    }
}
