namespace Sim.Platform.Devices;

/// <summary>
/// One Intel 8259A programmable interrupt controller (datasheet 231468): the initialization sequence
/// ICW1–ICW4, the operation command words OCW1–OCW3, fully nested priority with rotation, special
/// mask mode, automatic EOI, poll mode and edge or level sensing per input (the PC's ELCR decides the
/// sense per IR, as on PIIX-class chipsets). Two of them in cascade form <see cref="CascadedPic8259A"/>.
/// </summary>
public sealed class Pic8259A
{
    private enum InitStep : byte { None, Icw2, Icw3, Icw4 }

    private InitStep _step;
    private bool _icw4Needed;
    private bool _single;
    private bool _readIsr;
    private bool _poll;
    private bool _levelTriggeredAll;
    private bool _rotateOnAutoEoi;
    private byte _lowestPriority = 7;
    private byte _lineLevels;

    public Pic8259A(bool isMaster) => IsMaster = isMaster;

    public bool IsMaster { get; }

    /// <summary>Interrupt request register: latched edges, or the live level on level-sensed inputs.</summary>
    public byte Irr { get; private set; }

    /// <summary>In-service register.</summary>
    public byte Isr { get; private set; }

    /// <summary>Interrupt mask register (OCW1).</summary>
    public byte Imr { get; private set; }

    /// <summary>Edge/level control: a set bit makes that IR level-sensed.</summary>
    public byte Elcr { get; set; }

    /// <summary>The IRs that are level-sensed: all of them after ICW1 with LTIM, else those the ELCR selects.</summary>
    public byte LevelSensed => _levelTriggeredAll ? (byte)0xFF : Elcr;

    /// <summary>T7–T3 of the vector, from ICW2.</summary>
    public byte VectorBase { get; private set; }

    /// <summary>ICW3: on a master the IRs that have slaves, on a slave its cascade identity.</summary>
    public byte Icw3 { get; private set; }

    public bool AutoEoi { get; private set; }

    public bool SpecialFullyNested { get; private set; }

    public bool SpecialMaskMode { get; private set; }

    public bool Initialized { get; private set; }

    /// <summary>Called after every state change that may have changed <see cref="Output"/>.</summary>
    public Action? OutputChanged { get; set; }

    /// <summary>Drives IR<paramref name="irq"/> to <paramref name="level"/>; a rising edge latches into IRR on an edge-sensed input.</summary>
    public void SetIrqLevel(int irq, bool level)
    {
        var mask = (byte)(1 << irq);
        var wasHigh = (_lineLevels & mask) != 0;
        if (level)
        {
            _lineLevels |= mask;
            if ((LevelSensed & mask) != 0 || !wasHigh) Irr |= mask;
        }
        else
        {
            _lineLevels &= (byte)~mask;
            if ((LevelSensed & mask) != 0) Irr &= (byte)~mask;
        }
        OutputChanged?.Invoke();
    }

    /// <summary>The IR with the highest priority that may interrupt now, or -1.</summary>
    public int HighestRequest()
    {
        var pending = (byte)(Irr & ~Imr);
        if (pending == 0) return -1;
        var inService = Isr;
        if (SpecialMaskMode) inService &= (byte)~Imr;
        if (IsMaster && SpecialFullyNested) inService &= (byte)~Icw3;
        var serviceLevel = PriorityOf(inService);
        var requestLevel = PriorityOf(pending);
        if (serviceLevel >= 0 && requestLevel >= serviceLevel) return -1;
        return IrAtPriority(requestLevel);
    }

    /// <summary>INT as the datasheet defines it: a request with higher priority than everything in service.</summary>
    public bool Output() => HighestRequest() >= 0;

    public bool IsCascade(int ir) => IsMaster && !_single && (Icw3 & (1 << ir)) != 0;

    /// <summary>
    /// The INTA sequence for IR <paramref name="ir"/> (resolved by the caller with <see cref="HighestRequest"/>):
    /// sets its ISR bit unless in automatic-EOI mode and clears an edge-latched request.
    /// </summary>
    public void Acknowledge(int ir)
    {
        var mask = (byte)(1 << ir);
        if ((LevelSensed & mask) == 0) Irr &= (byte)~mask;
        if (AutoEoi)
        {
            if (_rotateOnAutoEoi) _lowestPriority = (byte)ir;
        }
        else
        {
            Isr |= mask;
        }
        OutputChanged?.Invoke();
    }

    public byte VectorFor(int ir) => (byte)((VectorBase & 0xF8) | ir);

    /// <summary>Port at A0 = <paramref name="a0"/>.</summary>
    public byte Read(int a0)
    {
        if (_poll)
        {
            _poll = false;
            var ir = HighestRequest();
            if (ir < 0) return 0;
            Acknowledge(ir);
            return (byte)(0x80 | ir);
        }
        if (a0 == 1) return Imr;
        return _readIsr ? Isr : Irr;
    }

    public void Write(int a0, byte value)
    {
        if (a0 == 0)
        {
            if ((value & 0x10) != 0) Icw1(value);
            else if ((value & 0x08) != 0) Ocw3(value);
            else Ocw2(value);
        }
        else
        {
            switch (_step)
            {
                case InitStep.Icw2:
                    VectorBase = (byte)(value & 0xF8);
                    _step = !_single ? InitStep.Icw3 : _icw4Needed ? InitStep.Icw4 : InitStep.None;
                    break;
                case InitStep.Icw3:
                    Icw3 = value;
                    _step = _icw4Needed ? InitStep.Icw4 : InitStep.None;
                    break;
                case InitStep.Icw4:
                    AutoEoi = (value & 0x02) != 0;
                    SpecialFullyNested = (value & 0x10) != 0;
                    _step = InitStep.None;
                    break;
                default:
                    Imr = value;
                    break;
            }
            if (_step == InitStep.None) Initialized = true;
        }
        OutputChanged?.Invoke();
    }

    private void Icw1(byte value)
    {
        // Datasheet, "Initialization Command Words": the edge sense circuit is reset, IMR cleared, IR7
        // gets the lowest priority, special mask mode is cleared, status read is set to IRR, and ICW4
        // functions are zero unless IC4 asks for ICW4.
        _icw4Needed = (value & 0x01) != 0;
        _single = (value & 0x02) != 0;
        _levelTriggeredAll = (value & 0x08) != 0;
        _step = InitStep.Icw2;
        Initialized = false;
        Imr = 0;
        Isr = 0;
        Irr = (byte)(_lineLevels & LevelSensed);
        _lowestPriority = 7;
        SpecialMaskMode = false;
        _readIsr = false;
        _poll = false;
        AutoEoi = false;
        SpecialFullyNested = false;
        _rotateOnAutoEoi = false;
        if (_single) Icw3 = 0;
    }

    private void Ocw2(byte value)
    {
        var command = value >> 5;
        var level = value & 7;
        switch (command)
        {
            case 0b001:
            case 0b101:
            {
                var ir = IrAtPriority(PriorityOf(Isr));
                if (ir < 0) break;
                Isr &= (byte)~(1 << ir);
                if (command == 0b101) _lowestPriority = (byte)ir;
                break;
            }
            case 0b011:
                Isr &= (byte)~(1 << level);
                break;
            case 0b111:
                Isr &= (byte)~(1 << level);
                _lowestPriority = (byte)level;
                break;
            case 0b110:
                _lowestPriority = (byte)level;
                break;
            case 0b100:
                _rotateOnAutoEoi = true;
                break;
            case 0b000:
                _rotateOnAutoEoi = false;
                break;
        }
    }

    private void Ocw3(byte value)
    {
        if ((value & 0x04) != 0) _poll = true;
        if ((value & 0x02) != 0) _readIsr = (value & 0x01) != 0;
        if ((value & 0x40) != 0) SpecialMaskMode = (value & 0x20) != 0;
    }

    /// <summary>0 is the highest priority; the IR after the lowest-priority one has priority 0.</summary>
    private int PriorityOf(byte bits)
    {
        if (bits == 0) return -1;
        for (var p = 0; p < 8; p++)
            if ((bits & (1 << IrAtPriority(p))) != 0) return p;
        return -1;
    }

    private int IrAtPriority(int priority) => priority < 0 ? -1 : (_lowestPriority + 1 + priority) & 7;
}
