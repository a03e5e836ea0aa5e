using Sim.Platform.Time;

namespace Sim.Platform.Devices;

/// <summary>
/// The Motorola MC146818 real-time clock and its 114 bytes of CMOS RAM at ports 0x70 (index, bit 7
/// disables NMI) and 0x71 (data). As in the chip, the time and calendar are the registers 0x00–0x09
/// themselves, in the BCD or binary and 12- or 24-hour format register B selected when they were
/// written, and the once-a-second update cycle advances them: seconds to minutes to hours, then day of
/// week, date, month (with the leap year of every year divisible by 4) and the two-digit year, which
/// rolls over from 99 to 00. The century byte 0x32 is CMOS RAM that the PC BIOS keeps; the chip never
/// changes it. Time comes from simulated time only. Registers A–D follow the datasheet: UIP during the
/// last 244 µs before each update, the divider chain (DV2–DV0 = 010 runs it, the first update comes
/// 500 ms after it leaves reset), SET inhibiting updates, periodic, alarm and update-ended flags in
/// register C (cleared by reading it), which drive IRQ 8. Daylight saving (DSE) is not modelled.
/// </summary>
public sealed class RtcMc146818 : IPortDevice
{
    public const ushort IndexPort = 0x70;
    public const ushort DataPort = 0x71;

    public const int Seconds = 0x00;
    public const int SecondsAlarm = 0x01;
    public const int Minutes = 0x02;
    public const int MinutesAlarm = 0x03;
    public const int Hours = 0x04;
    public const int HoursAlarm = 0x05;
    public const int DayOfWeek = 0x06;
    public const int DateOfMonth = 0x07;
    public const int Month = 0x08;
    public const int Year = 0x09;
    public const int RegisterA = 0x0A;
    public const int RegisterB = 0x0B;
    public const int RegisterC = 0x0C;
    public const int RegisterD = 0x0D;

    /// <summary>IBM's century byte in CMOS RAM.</summary>
    public const int CenturyIndex = 0x32;

    public static readonly DateTime DefaultStartTime = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);

    private const byte Uip = 0x80;
    private const byte DividerMask = 0x70, DividerRunning = 0x20;
    private const byte BSet = 0x80, BPie = 0x40, BAie = 0x20, BUie = 0x10, BBinary = 0x04, B24Hour = 0x02;
    private const byte CIrqf = 0x80, CPf = 0x40, CAf = 0x20, CUf = 0x10;
    private const byte Pm = 0x80;
    private const ulong UipWindowNs = 244_000;
    private const ulong SecondsPerDay = 86_400;

    /// <summary>Days in the chip's 100-year calendar: every fourth year, 00 included, is a leap year.</summary>
    private const int DaysPerCentury = 25 * (3 * 365 + 366);

    private readonly MachineClock _clock;
    private readonly byte[] _ram = new byte[128];
    private readonly TimerEvent _periodicEvent;
    private readonly TimerEvent _updateEvent;
    private ulong _nextUpdateCycle;
    private ulong _periodicBaseCycle;
    private ulong _lastCycle;
    private byte _flags;
    private byte _index;

    public RtcMc146818(MachineClock clock, DateTime? startTime = null)
    {
        _clock = clock;
        _periodicEvent = new TimerEvent("MC146818 periodic", OnEvent);
        _updateEvent = new TimerEvent("MC146818 update", OnEvent);
        _lastCycle = clock.Now;
        _periodicBaseCycle = _lastCycle;
        _nextUpdateCycle = _lastCycle + clock.FrequencyHz;
        _ram[RegisterA] = 0x26;
        _ram[RegisterB] = B24Hour;
        var t = startTime ?? DefaultStartTime;
        _ram[Seconds] = ToBcd(t.Second);
        _ram[Minutes] = ToBcd(t.Minute);
        _ram[Hours] = ToBcd(t.Hour);
        _ram[DayOfWeek] = (byte)((int)t.DayOfWeek + 1);
        _ram[DateOfMonth] = ToBcd(t.Day);
        _ram[Month] = ToBcd(t.Month);
        _ram[Year] = ToBcd(t.Year % 100);
        _ram[CenturyIndex] = ToBcd(t.Year / 100);
    }

    /// <summary>Bit 7 of the last write to port 0x70.</summary>
    public bool NmiDisabled { get; private set; }

    /// <summary>Drives IRQ 8 with IRQF (the chip's IRQ pin is asserted while IRQF is set).</summary>
    public Action<bool>? IrqLevel { get; set; }

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
        index &= 0x7F;
        var now = CatchUp();
        switch (index)
        {
            case RegisterA:
                return (byte)(_ram[RegisterA] | (UpdateInProgress(now) ? Uip : 0));
            case RegisterC:
            {
                var c = _flags;
                _flags = 0;
                IrqLevel?.Invoke(false);
                Reschedule(now);
                return c;
            }
            case RegisterD: return 0x80;
            default: return _ram[index];
        }
    }

    public void WriteRegister(int index, byte value)
    {
        index &= 0x7F;
        var now = CatchUp();
        switch (index)
        {
            case RegisterA: WriteA(now, value); break;
            case RegisterB: WriteB(now, value); break;
            case RegisterC:
            case RegisterD: break;
            // The chip stores whatever is written, valid or not; the update cycle counts on from it.
            default:
                _ram[index] = value;
                if (index <= Year) Reschedule(now);
                break;
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

    private bool Hour24 => (_ram[RegisterB] & B24Hour) != 0;

    private bool DividerChainRuns => (_ram[RegisterA] & DividerMask) == DividerRunning;

    private bool Updating => DividerChainRuns && (_ram[RegisterB] & BSet) == 0;

    /// <summary>
    /// Brings registers and flags to the present and returns it. Processors and events may touch the
    /// chip at cycles earlier than one it has already seen; its time never runs backwards.
    /// </summary>
    private ulong CatchUp() => CatchUp(_clock.Now);

    private ulong CatchUp(ulong cycle)
    {
        if (cycle <= _lastCycle) return _lastCycle;
        var from = _lastCycle;
        _lastCycle = cycle;
        if (!DividerChainRuns) return cycle;
        if (PeriodicHz != 0 && PeriodicIndex(cycle) > PeriodicIndex(from)) _flags |= CPf;
        if (cycle >= _nextUpdateCycle)
        {
            var updates = (cycle - _nextUpdateCycle) / _clock.FrequencyHz + 1;
            _nextUpdateCycle += updates * _clock.FrequencyHz;
            // SET inhibits the update cycle; the divider chain keeps its phase.
            if ((_ram[RegisterB] & BSet) == 0) RunUpdateCycles(updates);
        }
        RecomputeIrqf();
        return cycle;
    }

    private bool UpdateInProgress(ulong now) =>
        Updating && _nextUpdateCycle > now && _nextUpdateCycle - now <= _clock.CyclesFromNanoseconds(UipWindowNs);

    /// <summary>
    /// Runs <paramref name="count"/> update cycles: UF, and AF if the time after any of them matches
    /// the alarm. Only the last day is stepped one second at a time, since after a day of updates
    /// every time of day has come round.
    /// </summary>
    private void RunUpdateCycles(ulong count)
    {
        _flags |= CUf;
        if (count > 2 * SecondsPerDay)
        {
            AdvanceSeconds(count - SecondsPerDay);
            count = SecondsPerDay;
        }
        var alarm = _ram[SecondsAlarm];
        var anySecond = (alarm & 0xC0) == 0xC0;
        if (!anySecond && !IsCountedValue(alarm, 59))
        {
            // After an update the seconds byte is one of 0–59 in the present format: this alarm never matches.
            AdvanceSeconds(count);
            return;
        }
        while (count > 0)
        {
            // Straight to the next second that equals the seconds alarm.
            var second = Decode(_ram[Seconds]);
            var step = anySecond || second > 59 ? 1UL : (ulong)((Decode(alarm) - second + 59) % 60 + 1);
            if (step > count) step = count;
            AdvanceSeconds(step);
            count -= step;
            if (!AlarmMatches()) continue;
            _flags |= CAf;
            AdvanceSeconds(count);
            return;
        }
    }

    /// <summary>Whether <paramref name="value"/> is a count 0–<paramref name="last"/> written in the present format.</summary>
    private bool IsCountedValue(byte value, int last)
    {
        var decoded = Decode(value);
        return decoded <= last && Encode(decoded) == value;
    }

    /// <summary>The datasheet's alarm: each of the three alarm bytes equals its time byte or is a don't-care (11xxxxxx).</summary>
    private bool AlarmMatches() =>
        AlarmField(SecondsAlarm, Seconds) && AlarmField(MinutesAlarm, Minutes) && AlarmField(HoursAlarm, Hours);

    private bool AlarmField(int alarm, int time) => (_ram[alarm] & 0xC0) == 0xC0 || _ram[alarm] == _ram[time];

    /// <summary>
    /// Advances the time registers by <paramref name="seconds"/> update cycles. A counter at or above
    /// its last value goes to its first value and carries, one below its first value counts up to it;
    /// so a register written with a value out of its range (which the datasheet leaves undefined) is
    /// back in range at its next carry, deterministically.
    /// </summary>
    private void AdvanceSeconds(ulong seconds)
    {
        if (seconds == 0) return;
        var (second, minuteCarries) = Count(Decode(_ram[Seconds]), 0, 59, seconds);
        _ram[Seconds] = Encode(second);
        if (minuteCarries == 0) return;
        var (minute, hourCarries) = Count(Decode(_ram[Minutes]), 0, 59, minuteCarries);
        _ram[Minutes] = Encode(minute);
        if (hourCarries == 0) return;
        var dayCarries = AdvanceHours(hourCarries);
        if (dayCarries != 0) AdvanceDays(dayCarries);
    }

    /// <summary>Advances the hours register; returns the carries into the date (each 23 → 0, or 11 PM → 12 AM).</summary>
    private ulong AdvanceHours(ulong hours)
    {
        var register = _ram[Hours];
        if (Hour24)
        {
            var (hour, carries) = Count(Decode(register), 0, 23, hours);
            _ram[Hours] = Encode(hour);
            return carries;
        }
        var pm = (register & Pm) != 0;
        var h12 = Decode((byte)(register & ~Pm));
        if (h12 is < 1 or > 12)
        {
            // Out of range in 12-hour mode: the next increment gives 1 of the same half-day.
            h12 = 1;
            hours--;
        }
        // 12 AM, 1 AM ... 11 AM, 12 PM ... 11 PM as 0 ... 23.
        var (index, dayCarries) = Count(h12 % 12 + (pm ? 12 : 0), 0, 23, hours);
        var h = index % 12 == 0 ? 12 : index % 12;
        _ram[Hours] = (byte)(Encode(h) | (index >= 12 ? Pm : 0));
        return dayCarries;
    }

    private void AdvanceDays(ulong days)
    {
        var (dayOfWeek, _) = Count(Decode(_ram[DayOfWeek]), 1, 7, days);
        _ram[DayOfWeek] = Encode(dayOfWeek);
        var (oldYear, oldMonth, oldDate) = (Decode(_ram[Year]), Decode(_ram[Month]), Decode(_ram[DateOfMonth]));
        var (year, month, date) = (oldYear, oldMonth, oldDate);
        // A date out of range is stepped a day at a time until a carry brings it back (within about a year).
        while (days > 0 && !IsValidDate(year, month, date))
        {
            if (date >= DaysInMonth(month, year))
            {
                date = 1;
                if (month >= 12)
                {
                    month = 1;
                    year = year >= 99 ? 0 : year + 1;
                }
                else
                {
                    month++;
                }
            }
            else
            {
                date++;
            }
            days--;
        }
        if (days > 0)
        {
            var day = (int)(((ulong)DayInCentury(year, month, date) + days % DaysPerCentury) % DaysPerCentury);
            (year, month, date) = FromDayInCentury(day);
        }
        // A register the carries did not reach keeps its byte.
        if (year != oldYear) _ram[Year] = Encode(year);
        if (month != oldMonth) _ram[Month] = Encode(month);
        if (date != oldDate) _ram[DateOfMonth] = Encode(date);
    }

    /// <summary>A counter over [first, last] after <paramref name="steps"/> increments, and how many times it carried.</summary>
    private static (int Value, ulong Carries) Count(int value, int first, int last, ulong steps)
    {
        ulong carries = 0;
        if (steps == 0) return (value, 0);
        if (value < first)
        {
            var up = (ulong)(first - value);
            if (steps < up) return (value + (int)steps, 0);
            value = first;
            steps -= up;
        }
        else if (value > last)
        {
            value = first;
            carries = 1;
            steps--;
        }
        var period = (ulong)(last - first + 1);
        var position = (ulong)(value - first) + steps;
        return (first + (int)(position % period), carries + position / period);
    }

    private static bool IsLeap(int year) => year % 4 == 0;

    /// <summary>Month lengths; a month out of range counts like one of 31 days.</summary>
    private static int DaysInMonth(int month, int year) => month switch
    {
        2 => IsLeap(year) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    private static bool IsValidDate(int year, int month, int date) =>
        year is >= 0 and <= 99 && month is >= 1 and <= 12 && date >= 1 && date <= DaysInMonth(month, year);

    private static int DaysInYear(int year) => IsLeap(year) ? 366 : 365;

    private static int DayInCentury(int year, int month, int date)
    {
        var day = year * 365 + (year + 3) / 4;
        for (var m = 1; m < month; m++) day += DaysInMonth(m, year);
        return day + date - 1;
    }

    private static (int Year, int Month, int Date) FromDayInCentury(int day)
    {
        var year = day / (3 * 365 + 366) * 4;
        day %= 3 * 365 + 366;
        while (day >= DaysInYear(year))
        {
            day -= DaysInYear(year);
            year++;
        }
        var month = 1;
        while (day >= DaysInMonth(month, year))
        {
            day -= DaysInMonth(month, year);
            month++;
        }
        return (year, month, day + 1);
    }

    private byte Encode(int value) => Binary ? (byte)value : ToBcd(value);

    /// <summary>The register as a number: binary, or BCD digits weighted 10 and 1 (nibbles above 9 included, as they come).</summary>
    private int Decode(byte value) => Binary ? value : (value >> 4) * 10 + (value & 0xF);

    private static byte ToBcd(int value) => (byte)(value / 10 << 4 | value % 10);

    private void WriteA(ulong now, byte value)
    {
        var wasRunning = DividerChainRuns;
        _ram[RegisterA] = (byte)(value & 0x7F);
        if (!wasRunning && DividerChainRuns)
        {
            // Datasheet: after the divider chain leaves reset, the first update comes 500 ms later.
            _nextUpdateCycle = now + _clock.FrequencyHz / 2;
            _periodicBaseCycle = now;
        }
        Reschedule(now);
    }

    private void WriteB(ulong now, byte value)
    {
        // Datasheet: setting SET clears UIE.
        if ((value & BSet) != 0) value &= unchecked((byte)~BUie);
        _ram[RegisterB] = value;
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
        cycle < _periodicBaseCycle ? 0 : (ulong)((UInt128)(cycle - _periodicBaseCycle) * PeriodicHz / _clock.FrequencyHz);

    private ulong CycleOfPeriodicIndex(ulong index) =>
        _periodicBaseCycle + (ulong)(((UInt128)index * _clock.FrequencyHz + PeriodicHz - 1) / PeriodicHz);

    private void RecomputeIrqf()
    {
        var wasSet = (_flags & CIrqf) != 0;
        var enabled = (byte)(_ram[RegisterB] & (BPie | BAie | BUie));
        if ((_flags & enabled & (CPf | CAf | CUf)) != 0) _flags |= CIrqf;
        if (!wasSet && (_flags & CIrqf) != 0) IrqLevel?.Invoke(true);
    }

    /// <summary>
    /// Arms the events that set an enabled flag; after <see cref="CatchUp()"/> both lie after
    /// <paramref name="now"/>. While IRQF is set the pin is already asserted and the flags are worked
    /// out when next read, so no event is needed until register C is read: a guest that never reads it
    /// cannot fill the event queue with periodic interrupts at 8 kHz during a long idle skip.
    /// </summary>
    private void Reschedule(ulong now)
    {
        if ((_flags & CIrqf) != 0)
        {
            _clock.Cancel(_periodicEvent);
            _clock.Cancel(_updateEvent);
            return;
        }
        if (DividerChainRuns && (_ram[RegisterB] & BPie) != 0 && PeriodicHz != 0)
            _clock.Arm(_periodicEvent, CycleOfPeriodicIndex(PeriodicIndex(now) + 1));
        else
            _clock.Cancel(_periodicEvent);
        var updates = (_ram[RegisterB] & BUie) != 0 ? 1 : (_ram[RegisterB] & BAie) != 0 ? UpdatesToAlarmSecond() : 0;
        if (Updating && updates != 0)
            _clock.Arm(_updateEvent, _nextUpdateCycle + (updates - 1) * _clock.FrequencyHz);
        else
            _clock.Cancel(_updateEvent);
    }

    /// <summary>The update cycles until the seconds byte next equals the seconds alarm (0 if it never will), so that an alarm costs one event a minute, not one a second.</summary>
    private ulong UpdatesToAlarmSecond()
    {
        var alarm = _ram[SecondsAlarm];
        if ((alarm & 0xC0) == 0xC0) return 1;
        if (!IsCountedValue(alarm, 59)) return 0;
        var second = Decode(_ram[Seconds]);
        return second > 59 ? 1UL : (ulong)((Decode(alarm) - second + 59) % 60 + 1);
    }

    private void OnEvent(ulong cycle) => Reschedule(CatchUp(cycle));
}
