namespace Sim.Platform.Devices;

/// <summary>
/// One counter of the 8254 (datasheet 231164), evaluated lazily: it keeps when its count was loaded
/// and how many CLK pulses it has counted since, and computes the counting element and OUT for any
/// CLK tick on demand. A tick <c>t</c> means "after the t-th CLK pulse since power-on". A count
/// written between pulses t and t+1 is loaded into the counting element on pulse t+1.
/// </summary>
public sealed class Pit8254Counter
{
    private byte _accessMode = 3;
    private bool _writeMsbNext;
    private byte _pendingLsb;
    private bool _readMsbNext;
    private bool _countLatched;
    private ushort _latchedCount;
    private bool _latchMsbNext;
    private bool _statusLatched;
    private byte _latchedStatus;

    private bool _armed;
    private ulong _loadTick;
    private uint _period;
    private bool _hasPrevious;
    private ulong _previousLoadTick;
    private uint _previousPeriod;
    private ulong _pausedElapsed;
    private ulong _resumeTick;
    private bool _counting;
    private uint _frozenValue;

    public Pit8254Counter(int index) => Index = index;

    public int Index { get; }

    /// <summary>Mode 0–5 (6 and 7 are read as the 2 and 3 they alias).</summary>
    public int Mode { get; private set; }

    public bool Bcd { get; private set; }

    /// <summary>RW bits of the control word: 1 LSB only, 2 MSB only, 3 LSB then MSB.</summary>
    public int AccessMode => _accessMode;

    /// <summary>The count register as last written (0 stands for the maximum count).</summary>
    public ushort CountRegister { get; private set; }

    public bool Gate { get; private set; } = true;

    private uint Modulus => Bcd ? 10000u : 65536u;

    /// <summary>The control word for this counter (SC bits already decoded), not a latch command.</summary>
    public void WriteControl(byte control, ulong tick)
    {
        _accessMode = (byte)((control >> 4) & 3);
        var mode = (control >> 1) & 7;
        Mode = mode >= 6 ? mode - 4 : mode;
        Bcd = (control & 1) != 0;
        _writeMsbNext = false;
        _readMsbNext = false;
        _countLatched = false;
        _statusLatched = false;
        _armed = false;
        _hasPrevious = false;
    }

    public void LatchCount(ulong tick)
    {
        if (_countLatched) return;
        _countLatched = true;
        _latchMsbNext = false;
        _latchedCount = ToRegister(Value(tick));
    }

    public void LatchStatus(ulong tick)
    {
        if (_statusLatched) return;
        _statusLatched = true;
        _latchedStatus = Status(tick);
    }

    /// <summary>The status byte of the read-back command: OUT, null count, RW, mode, BCD.</summary>
    public byte Status(ulong tick)
    {
        var s = (byte)((_accessMode << 4) | (Mode << 1) | (Bcd ? 1 : 0));
        if (Out(tick)) s |= 0x80;
        if (NullCount(tick)) s |= 0x40;
        return s;
    }

    /// <summary>Null count: a count was written and has not been loaded into the counting element yet.</summary>
    public bool NullCount(ulong tick) => !_armed ? true : tick < _loadTick;

    public byte ReadByte(ulong tick)
    {
        if (_statusLatched)
        {
            _statusLatched = false;
            return _latchedStatus;
        }
        if (_countLatched)
        {
            var v = _latchedCount;
            switch (_accessMode)
            {
                case 1: _countLatched = false; return (byte)v;
                case 2: _countLatched = false; return (byte)(v >> 8);
                default:
                    if (_latchMsbNext)
                    {
                        _countLatched = false;
                        _latchMsbNext = false;
                        return (byte)(v >> 8);
                    }
                    _latchMsbNext = true;
                    return (byte)v;
            }
        }
        var live = ToRegister(Value(tick));
        switch (_accessMode)
        {
            case 1: return (byte)live;
            case 2: return (byte)(live >> 8);
            default:
                _readMsbNext = !_readMsbNext;
                return _readMsbNext ? (byte)live : (byte)(live >> 8);
        }
    }

    /// <summary>A count byte; returns true when the count is complete (and so was loaded).</summary>
    public bool WriteByte(byte value, ulong tick)
    {
        ushort count;
        switch (_accessMode)
        {
            case 1: count = value; break;
            case 2: count = (ushort)(value << 8); break;
            case 3:
                if (!_writeMsbNext)
                {
                    _pendingLsb = value;
                    _writeMsbNext = true;
                    return false;
                }
                _writeMsbNext = false;
                count = (ushort)(_pendingLsb | (value << 8));
                break;
            default: return false;
        }
        LoadCount(count, tick);
        return true;
    }

    private void LoadCount(ushort register, ulong tick)
    {
        CountRegister = register;
        var period = FromRegister(register);
        if (Mode is 2 or 3 && _armed && Gate)
        {
            // Datasheet: a new count written while counting in mode 2 or 3 takes effect at the end of
            // the current period (mode 2) or half-period (mode 3); until then the old count runs on.
            // Mode 3 here switches at the end of the full period, so that the switch is a rising edge.
            // A further count written before then replaces the waiting one; the running one runs on.
            if (!(_hasPrevious && tick < _loadTick))
            {
                var end = CurrentPeriodEnd(tick);
                _hasPrevious = true;
                _previousLoadTick = _loadTick;
                _previousPeriod = _period;
                _loadTick = end;
            }
            _period = period;
            return;
        }
        _period = period;
        _hasPrevious = false;
        if (Mode is 1 or 5)
        {
            // The count waits for a gate trigger; a running one-shot finishes with the count it had.
            if (!_armed) _loadTick = ulong.MaxValue;
            _armed = true;
            return;
        }
        _armed = true;
        _loadTick = tick + 1;
        _frozenValue = period % Modulus;
        _pausedElapsed = 0;
        _counting = Gate;
        _resumeTick = _loadTick;
    }

    public void SetGate(bool level, ulong tick)
    {
        if (level == Gate) return;
        Gate = level;
        if (!_armed) return;
        switch (Mode)
        {
            case 0:
            case 4:
                if (level)
                {
                    _counting = true;
                    _resumeTick = Math.Max(tick, _loadTick);
                }
                else
                {
                    _pausedElapsed = Elapsed(tick);
                    _counting = false;
                }
                break;
            case 1:
            case 5:
                if (level)
                {
                    _loadTick = tick + 1;
                    _hasPrevious = false;
                }
                break;
            default:
                if (level)
                {
                    _hasPrevious = false;
                    _loadTick = tick + 1;
                }
                else
                {
                    _frozenValue = Value(tick);
                }
                break;
        }
    }

    /// <summary>The counting element at <paramref name="tick"/>, as a binary number of counts.</summary>
    public uint Value(ulong tick)
    {
        if (!_armed) return FromRegister(CountRegister) % Modulus;
        if (Mode is 2 or 3 && !Gate) return _frozenValue;
        var (load, period) = ActiveLoad(tick);
        if (tick < load) return period % Modulus;
        switch (Mode)
        {
            case 0:
            case 4:
                return (uint)((period + Modulus - Elapsed(tick) % Modulus) % Modulus);
            case 1:
            case 5:
                return (uint)((period + Modulus - (tick - load) % Modulus) % Modulus);
            case 2:
                return period - (uint)((tick - load) % period);
            default:
            {
                var phase = (tick - load) % period;
                var high = (period + 1) / 2;
                var inHalf = phase < high ? phase : phase - high;
                return (period & ~1u) - 2 * (uint)inHalf;
            }
        }
    }

    /// <summary>The OUT pin at <paramref name="tick"/>.</summary>
    public bool Out(ulong tick)
    {
        if (!_armed) return Mode != 0;
        var (load, period) = ActiveLoad(tick);
        if (tick < load) return Mode != 0 && !(Mode == 1 && _hasPrevious);
        switch (Mode)
        {
            case 0: return Elapsed(tick) >= period;
            case 1: return tick - load >= period;
            case 4: return Elapsed(tick) != period;
            case 5: return tick - load != period;
            case 2: return !Gate || (tick - load) % period != period - 1;
            default: return !Gate || (tick - load) % period < (period + 1) / 2;
        }
    }

    /// <summary>The first tick after <paramref name="tick"/> at which OUT rises, or null when it never will on its own.</summary>
    public ulong? NextRisingEdge(ulong tick)
    {
        if (!_armed) return null;
        switch (Mode)
        {
            case 0:
            case 4:
            {
                if (!_counting) return null;
                var target = Mode == 0 ? (ulong)_period : _period + 1UL;
                var done = Elapsed(tick);
                if (done >= target) return null;
                var start = Math.Max(tick, _resumeTick);
                return start + (target - Elapsed(start));
            }
            case 1:
            case 5:
            {
                if (_loadTick == ulong.MaxValue) return null;
                var edge = _loadTick + (Mode == 1 ? _period : _period + 1UL);
                return edge > tick ? edge : null;
            }
            default:
            {
                if (!Gate) return null;
                if (_hasPrevious && tick < _loadTick) return _loadTick;
                if (tick < _loadTick) return _loadTick + _period;
                var k = tick - _loadTick;
                return _loadTick + (k / _period + 1) * _period;
            }
        }
    }

    private (ulong Load, uint Period) ActiveLoad(ulong tick) =>
        _hasPrevious && tick < _loadTick ? (_previousLoadTick, _previousPeriod) : (_loadTick, _period);

    /// <summary>The tick at which the current period ends.</summary>
    private ulong CurrentPeriodEnd(ulong tick)
    {
        var (load, period) = ActiveLoad(tick);
        if (tick < load) return load;
        return load + ((tick - load) / period + 1) * period;
    }

    /// <summary>CLK pulses counted since the load in the gate-controlled modes 0 and 4.</summary>
    private ulong Elapsed(ulong tick)
    {
        if (!_counting || tick <= _resumeTick) return _pausedElapsed;
        return _pausedElapsed + (tick - _resumeTick);
    }

    private uint FromRegister(ushort register)
    {
        if (!Bcd) return register == 0 ? 65536u : register;
        var v = (uint)(((register >> 12) & 0xF) * 1000 + ((register >> 8) & 0xF) * 100 + ((register >> 4) & 0xF) * 10 + (register & 0xF));
        return v == 0 ? 10000u : v;
    }

    private ushort ToRegister(uint value)
    {
        value %= Modulus;
        if (!Bcd) return (ushort)value;
        return (ushort)((value / 1000 << 12) | (value / 100 % 10 << 8) | (value / 10 % 10 << 4) | (value % 10));
    }
}
