using Sim.Platform.Time;

namespace Sim.Platform.Devices;

/// <summary>
/// The Motorola MC146818 real-time clock and its 114 bytes of CMOS RAM at ports 0x70 (index, bit 7
/// disables NMI) and 0x71 (data). Its time comes from simulated time starting at a fixed date, never
/// from the host clock. Registers A–D follow the datasheet: UIP during the last 244 µs before each
/// update, the SET bit freezing the time, BCD or binary and 12- or 24-hour formats by register B,
/// periodic, alarm and update-ended flags in register C (cleared by reading it), which drive IRQ 8.
/// </summary>
public sealed class RtcMc146818 : IPortDevice
{
    public const ushort IndexPort = 0x70;
    public const ushort DataPort = 0x71;

    public const int RegisterA = 0x0A;
    public const int RegisterB = 0x0B;
    public const int RegisterC = 0x0C;
    public const int RegisterD = 0x0D;

    /// <summary>IBM's century byte in CMOS RAM.</summary>
    public const int CenturyIndex = 0x32;

    public static readonly DateTime DefaultStartTime = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);

    private const byte Uip = 0x80;
    private const byte BSet = 0x80, BPie = 0x40, BAie = 0x20, BUie = 0x10, BBinary = 0x04, B24Hour = 0x02;
    private const byte CIrqf = 0x80, CPf = 0x40, CAf = 0x20, CUf = 0x10;
    private const ulong UipWindowNs = 244_000;

    private readonly MachineClock _clock;
    private readonly byte[] _ram = new byte[128];
    private readonly TimerEvent _periodicEvent;
    private readonly TimerEvent _updateEvent;
    private long _baseSeconds;
    private ulong _baseCycle;
    private bool _frozen;
    private ulong _flagsCheckedCycle;
    private byte _flags;
    private byte _index;

    public RtcMc146818(MachineClock clock, DateTime? startTime = null)
    {
        _clock = clock;
        _periodicEvent = new TimerEvent("MC146818 periodic", OnPeriodic);
        _updateEvent = new TimerEvent("MC146818 update", OnUpdate);
        _baseSeconds = ToSeconds(startTime ?? DefaultStartTime);
        _baseCycle = clock.Now;
        _flagsCheckedCycle = _baseCycle;
        _ram[RegisterA] = 0x26;
        _ram[RegisterB] = B24Hour;
        _ram[RegisterD] = 0x80;
    }

    /// <summary>Bit 7 of the last write to port 0x70.</summary>
    public bool NmiDisabled { get; private set; }

    /// <summary>Drives IRQ 8 with IRQF (the chip's IRQ pin is asserted while IRQF is set).</summary>
    public Action<bool>? IrqLevel { get; set; }

    /// <summary>The clock's present date and time.</summary>
    public DateTime CurrentTime => FromSeconds(CurrentSeconds(_clock.Now));

    public uint Read(ushort port, int size) => port == DataPort ? ReadRegister(_index) : 0xFFu;

    public void Write(ushort port, int size, uint value)
    {
        if (port == IndexPort)
        {
            _index = (byte)(value & 0x7F);
            NmiDisabled = (value & 0x80) != 0;
        }
        else
        {
            WriteRegister(_index, (byte)value);
        }
    }

    public byte ReadRegister(int index)
    {
        var now = _clock.Now;
        switch (index)
        {
            case 0x00: return Encode(Now(now).Second);
            case 0x02: return Encode(Now(now).Minute);
            case 0x04: return EncodeHour(Now(now).Hour);
            case 0x06: return (byte)((int)Now(now).DayOfWeek + 1);
            case 0x07: return Encode(Now(now).Day);
            case 0x08: return Encode(Now(now).Month);
            case 0x09: return Encode(Now(now).Year % 100);
            case CenturyIndex: return Encode(Now(now).Year / 100);
            case RegisterA:
                return (byte)(_ram[RegisterA] & 0x7F | (UpdateInProgress(now) ? Uip : 0));
            case RegisterC:
            {
                UpdateFlags(now);
                var c = _flags;
                _flags = 0;
                IrqLevel?.Invoke(false);
                return c;
            }
            case RegisterD: return 0x80;
            default: return _ram[index & 0x7F];
        }
    }

    public void WriteRegister(int index, byte value)
    {
        var now = _clock.Now;
        switch (index)
        {
            case 0x00: SetField(now, value, (t, v) => t.AddSeconds(v - t.Second)); break;
            case 0x02: SetField(now, value, (t, v) => t.AddMinutes(v - t.Minute)); break;
            case 0x04: SetHour(now, value); break;
            case 0x06: break;
            case 0x07: SetField(now, value, (t, v) => new DateTime(t.Year, t.Month, v, t.Hour, t.Minute, t.Second)); break;
            case 0x08: SetField(now, value, (t, v) => new DateTime(t.Year, v, t.Day, t.Hour, t.Minute, t.Second)); break;
            case 0x09: SetField(now, value, (t, v) => new DateTime(t.Year / 100 * 100 + v, t.Month, t.Day, t.Hour, t.Minute, t.Second)); break;
            case CenturyIndex: SetField(now, value, (t, v) => new DateTime(v * 100 + t.Year % 100, t.Month, t.Day, t.Hour, t.Minute, t.Second)); break;
            case RegisterA: WriteA(now, value); break;
            case RegisterB: WriteB(now, value); break;
            case RegisterC:
            case RegisterD: break;
            default: _ram[index & 0x7F] = value; break;
        }
    }

    /// <summary>
    /// Fills the memory-size bytes the PC BIOS keeps in CMOS (base memory at 0x15/0x16, memory between
    /// 1 MiB and 64 MiB in KiB at 0x17/0x18 and 0x30/0x31, memory between 16 MiB and 4 GiB in 64 KiB
    /// blocks at 0x34/0x35, memory above 4 GiB in 64 KiB blocks at 0x5B–0x5D as SeaBIOS reads it) and
    /// the checksum of 0x10–0x2D at 0x2E/0x2F.
    /// </summary>
    public void SetMemorySize(ulong ramBytes)
    {
        const ulong MiB = 1UL << 20;
        SetWord(0x15, 640);
        var extendedKb = ramBytes > MiB ? Math.Min((ramBytes - MiB) / 1024, 0xFC00) : 0;
        SetWord(0x17, (ushort)extendedKb);
        SetWord(0x30, (ushort)extendedKb);
        var below4G = Math.Min(ramBytes, 4UL << 30);
        var above16M = below4G > 16 * MiB ? Math.Min((below4G - 16 * MiB) >> 16, 0xFFFF) : 0;
        SetWord(0x34, (ushort)above16M);
        var above4G = ramBytes > 4UL << 30 ? (ramBytes - (4UL << 30)) >> 16 : 0;
        _ram[0x5B] = (byte)above4G;
        _ram[0x5C] = (byte)(above4G >> 8);
        _ram[0x5D] = (byte)(above4G >> 16);
        UpdateChecksum();
    }

    /// <summary>Stores a CMOS RAM byte (index 0x0E–0x7F) and keeps the 0x10–0x2D checksum valid.</summary>
    public void SetCmosByte(int index, byte value)
    {
        if (index < 0x0E || index > 0x7F) throw new ArgumentOutOfRangeException(nameof(index));
        _ram[index] = value;
        UpdateChecksum();
    }

    private void SetWord(int index, ushort value)
    {
        _ram[index] = (byte)value;
        _ram[index + 1] = (byte)(value >> 8);
    }

    private void UpdateChecksum()
    {
        var sum = 0;
        for (var i = 0x10; i <= 0x2D; i++) sum += _ram[i];
        _ram[0x2E] = (byte)(sum >> 8);
        _ram[0x2F] = (byte)sum;
    }

    private bool Binary => (_ram[RegisterB] & BBinary) != 0;

    private bool Running => !_frozen && (_ram[RegisterA] & 0x70) == 0x20;

    private DateTime Now(ulong cycle) => FromSeconds(CurrentSeconds(cycle));

    private long CurrentSeconds(ulong cycle) =>
        !Running || cycle < _baseCycle ? _baseSeconds : _baseSeconds + (long)((cycle - _baseCycle) / _clock.FrequencyHz);

    private bool UpdateInProgress(ulong cycle)
    {
        if (!Running || cycle < _baseCycle) return false;
        var intoSecond = (cycle - _baseCycle) % _clock.FrequencyHz;
        return intoSecond >= _clock.FrequencyHz - _clock.CyclesFromNanoseconds(UipWindowNs);
    }

    private byte Encode(int value) => Binary ? (byte)value : (byte)(value / 10 << 4 | value % 10);

    private int Decode(byte value) => Binary ? value : (value >> 4) * 10 + (value & 0xF);

    private byte EncodeHour(int hour)
    {
        if ((_ram[RegisterB] & B24Hour) != 0) return Encode(hour);
        var h12 = hour % 12 == 0 ? 12 : hour % 12;
        return (byte)(Encode(h12) | (hour >= 12 ? 0x80 : 0));
    }

    private void SetHour(ulong now, byte value)
    {
        int hour;
        if ((_ram[RegisterB] & B24Hour) != 0)
        {
            hour = Decode(value);
        }
        else
        {
            var h12 = Decode((byte)(value & 0x7F));
            hour = h12 % 12 + ((value & 0x80) != 0 ? 12 : 0);
        }
        if (hour > 23) return;
        SetFieldDecoded(now, hour, (t, v) => t.AddHours(v - t.Hour));
    }

    private void SetField(ulong now, byte value, Func<DateTime, int, DateTime> replace) => SetFieldDecoded(now, Decode(value), replace);

    private void SetFieldDecoded(ulong now, int value, Func<DateTime, int, DateTime> replace)
    {
        DateTime updated;
        try
        {
            updated = replace(Now(now), value);
        }
        catch (ArgumentOutOfRangeException)
        {
            // The chip would store the out-of-range value and count nonsense from it; a calendar
            // cannot represent that, so such a write is dropped.
            return;
        }
        _baseSeconds += ToSeconds(updated) - CurrentSeconds(now);
    }

    private void WriteA(ulong now, byte value)
    {
        var wasRunning = Running;
        var seconds = CurrentSeconds(now);
        UpdateFlags(now);
        _ram[RegisterA] = (byte)(value & 0x7F);
        if (!wasRunning && Running && !_frozen)
        {
            // Datasheet: after the divider leaves reset, the first update comes 500 ms later.
            _baseSeconds = seconds;
            _baseCycle = now >= _clock.FrequencyHz / 2 ? now - _clock.FrequencyHz / 2 : 0;
        }
        else if (wasRunning && !Running)
        {
            _baseSeconds = seconds;
        }
        _flagsCheckedCycle = now;
        Reschedule(now);
    }

    private void WriteB(ulong now, byte value)
    {
        UpdateFlags(now);
        var seconds = CurrentSeconds(now);
        // Datasheet: setting SET clears UIE.
        if ((value & BSet) != 0) value &= unchecked((byte)~BUie);
        var wasFrozen = _frozen;
        _ram[RegisterB] = value;
        _frozen = (value & BSet) != 0;
        if (_frozen && !wasFrozen)
        {
            _baseSeconds = seconds;
        }
        else if (!_frozen && wasFrozen)
        {
            _baseSeconds = seconds;
            _baseCycle = now;
            _flagsCheckedCycle = now;
        }
        RecomputeIrqf();
        Reschedule(now);
    }

    private int PeriodicRateSelect => _ram[RegisterA] & 0x0F;

    /// <summary>The periodic rate of RS3–RS0 with the 32.768 kHz time base (RS 1 and 2 give 256 and 128 Hz).</summary>
    private ulong PeriodicHz => PeriodicRateSelect switch
    {
        0 => 0,
        1 => 256,
        2 => 128,
        var rs => 65536UL >> rs,
    };

    private ulong PeriodicIndex(ulong cycle) =>
        cycle < _baseCycle ? 0 : (ulong)((UInt128)(cycle - _baseCycle) * PeriodicHz / _clock.FrequencyHz);

    private ulong CycleOfPeriodicIndex(ulong index) =>
        _baseCycle + (ulong)(((UInt128)index * _clock.FrequencyHz + PeriodicHz - 1) / PeriodicHz);

    /// <summary>Sets PF, UF and AF for what happened between the last check and <paramref name="now"/>.</summary>
    private void UpdateFlags(ulong now)
    {
        if (now <= _flagsCheckedCycle) return;
        var from = _flagsCheckedCycle;
        _flagsCheckedCycle = now;
        if (!Running) return;
        if (PeriodicHz != 0 && PeriodicIndex(now) > PeriodicIndex(from)) _flags |= CPf;
        var before = CurrentSeconds(from);
        var after = CurrentSeconds(now);
        if (after > before)
        {
            _flags |= CUf;
            for (var s = Math.Max(before + 1, after - 86400); s <= after; s++)
            {
                if (AlarmMatches(FromSeconds(s)))
                {
                    _flags |= CAf;
                    break;
                }
            }
        }
        RecomputeIrqf();
    }

    private bool AlarmMatches(DateTime t) =>
        AlarmField(_ram[0x01], t.Second, false) && AlarmField(_ram[0x03], t.Minute, false) && AlarmField(_ram[0x05], t.Hour, true);

    private bool AlarmField(byte alarm, int value, bool hour)
    {
        if ((alarm & 0xC0) == 0xC0) return true;
        return alarm == (hour ? EncodeHour(value) : Encode(value));
    }

    private void RecomputeIrqf()
    {
        var wasSet = (_flags & CIrqf) != 0;
        var enabled = (byte)(_ram[RegisterB] & (BPie | BAie | BUie));
        if ((_flags & enabled & (CPf | CAf | CUf)) != 0) _flags |= CIrqf;
        if (!wasSet && (_flags & CIrqf) != 0) IrqLevel?.Invoke(true);
    }

    private void Reschedule(ulong now)
    {
        if (Running && (_ram[RegisterB] & BPie) != 0 && PeriodicHz != 0)
            _clock.Arm(_periodicEvent, CycleOfPeriodicIndex(PeriodicIndex(now) + 1));
        else
            _clock.Cancel(_periodicEvent);
        if (Running && (_ram[RegisterB] & (BUie | BAie)) != 0)
            _clock.Arm(_updateEvent, _baseCycle + ((now - _baseCycle) / _clock.FrequencyHz + 1) * _clock.FrequencyHz);
        else
            _clock.Cancel(_updateEvent);
    }

    private void OnPeriodic(ulong cycle)
    {
        UpdateFlags(cycle);
        Reschedule(cycle);
    }

    private void OnUpdate(ulong cycle)
    {
        UpdateFlags(cycle);
        Reschedule(cycle);
    }

    private static long ToSeconds(DateTime t) => t.Ticks / TimeSpan.TicksPerSecond;

    private static DateTime FromSeconds(long s) => new(s * TimeSpan.TicksPerSecond, DateTimeKind.Unspecified);
}
