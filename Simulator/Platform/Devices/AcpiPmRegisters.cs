using Sim.Platform.Time;

namespace Sim.Platform.Devices;

/// <summary>
/// The ACPI fixed hardware registers (ACPI 6.5, 4.8) in the PIIX4 layout at <see cref="ChipsetLayout.PmBase"/>:
/// PM1a_EVT_BLK (PM1_STS at +0, PM1_EN at +2), PM1a_CNT_BLK (PM1_CNT at +4) and PM_TMR_BLK (+8). The PM
/// timer counts simulated time at 3.579545 MHz exactly (tick n is due at cycle ceil(n·f / 3579545));
/// TMR_STS is set whenever its bit 23 toggles. The SCI (level, <see cref="ChipsetLayout.SciIrq"/>) is
/// asserted while a status bit and its enable are both set. There is no SMI_CMD, so the platform is
/// ACPI-only and SCI_EN always reads as set (4.8.10.1). Writing SLP_EN with SLP_TYP =
/// <see cref="ChipsetLayout.SoftOffSleepType"/> enters S5: <see cref="PowerOff"/>.
/// </summary>
public sealed class AcpiPmRegisters : IPortDevice
{
    public const ushort BasePort = ChipsetLayout.PmBase;
    public const int PortCount = 12;

    public const int Pm1StatusOffset = 0;
    public const int Pm1EnableOffset = 2;
    public const int Pm1ControlOffset = 4;
    public const int PmTimerOffset = 8;

    public const ushort TmrSts = 1 << 0;
    public const ushort BmSts = 1 << 4;
    public const ushort GblSts = 1 << 5;
    public const ushort PwrBtnSts = 1 << 8;
    public const ushort SlpBtnSts = 1 << 9;
    public const ushort RtcSts = 1 << 10;
    public const ushort WakSts = 1 << 15;

    public const ushort TmrEn = 1 << 0;
    public const ushort GblEn = 1 << 5;
    public const ushort PwrBtnEn = 1 << 8;
    public const ushort SlpBtnEn = 1 << 9;
    public const ushort RtcEn = 1 << 10;

    public const ushort SciEn = 1 << 0;
    public const ushort BmRld = 1 << 1;
    public const ushort GblRls = 1 << 2;
    public const int SlpTypShift = 10;
    public const ushort SlpTypMask = 7 << SlpTypShift;
    public const ushort SlpEn = 1 << 13;

    public const uint TimerMask = 0xFF_FFFF;

    private const ushort StatusBits = TmrSts | BmSts | GblSts | PwrBtnSts | SlpBtnSts | RtcSts | WakSts;
    private const ushort EnableBits = TmrEn | GblEn | PwrBtnEn | SlpBtnEn | RtcEn;
    private const ushort SciSources = TmrSts | GblSts | PwrBtnSts | SlpBtnSts | RtcSts;
    private const int TmrStsBit = 23;

    private readonly MachineClock _clock;
    private readonly TimerEvent _carryEvent;
    private ulong _lastCycle;
    private ulong _timerHalfPeriods;
    private ushort _status;
    private ushort _enable;
    private ushort _control;
    private bool _sci;

    public AcpiPmRegisters(MachineClock clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _carryEvent = new TimerEvent("ACPI PM timer bit 23", OnCarry);
        _lastCycle = clock.Now;
        _timerHalfPeriods = TicksAt(_lastCycle) >> TmrStsBit;
    }

    /// <summary>The machine enters S5 (soft off): the run ends cleanly with exit status 0.</summary>
    public Action? PowerOff { get; set; }

    /// <summary>Drives the SCI, a level interrupt on <see cref="ChipsetLayout.SciIrq"/>.</summary>
    public Action<bool>? SciLevel { get; set; }

    public bool Sci => _sci;

    public ushort Pm1Status
    {
        get
        {
            CatchUp(Present());
            return _status;
        }
    }

    public ushort Pm1Enable => _enable;

    /// <summary>PM1_CNT as read: SCI_EN set, SLP_EN and GBL_RLS (write-only) clear.</summary>
    public ushort Pm1Control => (ushort)(_control | SciEn);

    /// <summary>The 24-bit PM timer at the present.</summary>
    public uint PmTimer => (uint)(TicksAt(Present()) & TimerMask);

    /// <summary>The power button is pressed: PWRBTN_STS, and the SCI if PWRBTN_EN.</summary>
    public void PressPowerButton()
    {
        CatchUp(Present());
        _status |= PwrBtnSts;
        UpdateSci();
    }

    public uint Read(ushort port, int size)
    {
        var offset = port - BasePort;
        var cycle = Present();
        CatchUp(cycle);
        var ticks = TicksAt(cycle);
        uint value = 0;
        for (var i = 0; i < size; i++) value |= (uint)ReadByte(offset + i, ticks) << (8 * i);
        return value;
    }

    public void Write(ushort port, int size, uint value)
    {
        var offset = port - BasePort;
        CatchUp(Present());
        for (var i = 0; i < size; i++) WriteByte(offset + i, (byte)(value >> (8 * i)));
        UpdateSci();
        Reschedule();
    }

    private byte ReadByte(int offset, ulong ticks) => offset switch
    {
        Pm1StatusOffset or Pm1StatusOffset + 1 => (byte)(_status >> (8 * (offset & 1))),
        Pm1EnableOffset or Pm1EnableOffset + 1 => (byte)(_enable >> (8 * (offset & 1))),
        Pm1ControlOffset or Pm1ControlOffset + 1 => (byte)(Pm1Control >> (8 * (offset & 1))),
        // TMR_VAL_EXT = 0: a 24-bit timer, bits 24–31 read as 0.
        >= PmTimerOffset and < PmTimerOffset + 4 => (byte)((ticks & TimerMask) >> (8 * (offset - PmTimerOffset))),
        < PortCount => 0,
        // Bytes of a wide access past the block are on no device: the bus floats high.
        _ => 0xFF,
    };

    private void WriteByte(int offset, byte value)
    {
        var shift = 8 * (offset & 1);
        var bits = (ushort)(value << shift);
        switch (offset)
        {
            case Pm1StatusOffset:
            case Pm1StatusOffset + 1:
                // 4.8.1: status bits are cleared by writing 1 to them; writing 0 leaves them.
                _status &= (ushort)~(bits & StatusBits);
                break;
            case Pm1EnableOffset:
            case Pm1EnableOffset + 1:
                var lane = (ushort)(0xFF << shift);
                _enable = (ushort)((_enable & ~(lane & EnableBits)) | (bits & EnableBits));
                break;
            case Pm1ControlOffset:
                _control = (ushort)((_control & ~BmRld) | (bits & BmRld));
                break;
            case Pm1ControlOffset + 1:
                _control = (ushort)((_control & ~SlpTypMask) | (bits & SlpTypMask));
                if ((bits & SlpEn) != 0) Sleep((_control & SlpTypMask) >> SlpTypShift);
                break;
        }
    }

    /// <summary>
    /// 4.8.3.2.1 and 16.1: SLP_EN enters the sleep state SLP_TYP names. Only S5 exists here; any other
    /// type wakes at once, setting WAK_STS, so that an OS waiting for the wake does not wait forever.
    /// </summary>
    private void Sleep(int sleepType)
    {
        if (sleepType == ChipsetLayout.SoftOffSleepType) PowerOff?.Invoke();
        else _status |= WakSts;
    }

    private ulong Present()
    {
        var now = _clock.Now;
        if (now > _lastCycle) _lastCycle = now;
        return _lastCycle;
    }

    /// <summary>PM timer ticks since power-on: floor(cycle · 3579545 / f), in 128 bits so that no product overflows.</summary>
    public ulong TicksAt(ulong cycle) => (ulong)((UInt128)cycle * ChipsetLayout.PmTimerFrequencyHz / _clock.FrequencyHz);

    private ulong CycleOfTick(ulong tick)
    {
        var cycle = ((UInt128)tick * _clock.FrequencyHz + ChipsetLayout.PmTimerFrequencyHz - 1) / ChipsetLayout.PmTimerFrequencyHz;
        return cycle > ulong.MaxValue ? ulong.MaxValue : (ulong)cycle;
    }

    /// <summary>Sets TMR_STS if bit 23 has toggled since it was last looked at (4.8.3.3).</summary>
    private void CatchUp(ulong cycle)
    {
        var halfPeriods = TicksAt(cycle) >> TmrStsBit;
        if (halfPeriods == _timerHalfPeriods) return;
        _timerHalfPeriods = halfPeriods;
        _status |= TmrSts;
    }

    private void OnCarry(ulong cycle)
    {
        CatchUp(Present());
        UpdateSci();
        Reschedule();
    }

    /// <summary>An event for the next toggle of bit 23 only when it would raise the SCI; otherwise TMR_STS is computed when read.</summary>
    private void Reschedule()
    {
        if ((_enable & TmrEn) != 0 && (_status & TmrSts) == 0)
            _clock.Arm(_carryEvent, CycleOfTick((_timerHalfPeriods + 1) << TmrStsBit));
        else
            _clock.Cancel(_carryEvent);
    }

    private void UpdateSci()
    {
        var level = (_status & _enable & SciSources) != 0;
        if (level == _sci) return;
        _sci = level;
        SciLevel?.Invoke(level);
    }
}
