using System.Numerics;
using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Platform.Time;

namespace Sim.Platform.Apic;

/// <summary>
/// One processor's local APIC (SDM vol. 3, ch. 11) in xAPIC and x2APIC mode: ID and version, TPR,
/// APR and PPR, the IRR/ISR/TMR with their priority classes, EOI with the broadcast for
/// level-triggered vectors, LDR/DFR, the ICR with every delivery mode and shorthand, ESR, the LVT
/// and the timer. It is the processor's interrupt source: LINT0 programmed as ExtINT passes the
/// 8259 pair's INTR through, and while the APIC is globally disabled the 8259 drives INTR directly,
/// as on a processor without one. Messages are delivered at once, so the ICR's delivery status
/// always reads idle.
/// </summary>
public sealed partial class LocalApic : ILocalApic, IInterruptSource
{
    /// <summary>Version 14h with six LVT entries (maximum LVT entry 5), as QEMU's and recent Intel processors' xAPIC report.</summary>
    public const uint VersionValue = 0x0005_0014;

    private const uint LvtMask = 1u << 16;
    private const uint SvrSoftwareEnable = 1u << 8;

    private const int LvtTimer = 0, LvtThermal = 1, LvtPerformance = 2, LvtLint0 = 3, LvtLint1 = 4, LvtError = 5, LvtCount = 6;

    private const uint EsrSendIllegalVector = 1u << 5, EsrReceiveIllegalVector = 1u << 6, EsrIllegalRegister = 1u << 7;

    private readonly Processor _cpu;
    private readonly ApicBus _bus;
    private readonly uint[] _irr = new uint[8];
    private readonly uint[] _isr = new uint[8];
    private readonly uint[] _tmr = new uint[8];
    private readonly uint[] _lvt = new uint[LvtCount];
    private uint _id;
    private byte _tpr;
    private uint _ldr;
    private uint _dfr;
    private uint _svr;
    private uint _esr;
    private uint _pendingErrors;
    private uint _icrLow;
    private uint _icrHigh;
    private bool _extIntMessage;

    public LocalApic(Processor cpu, ApicBus bus, MachineClock clock)
    {
        _cpu = cpu;
        _bus = bus;
        _clock = clock;
        _timerEvent = new TimerEvent($"LAPIC {cpu.Index} timer", TimerExpired);
        ApicId = (uint)cpu.Index;
        PowerUp();
        bus.Attach(this);
    }

    /// <summary>The initial APIC ID (CPUID.1:EBX[31:24]): the x2APIC ID and the xAPIC ID at power-up.</summary>
    public uint ApicId { get; }

    public Processor Processor => _cpu;

    /// <summary>The 8259 pair behind LINT0; null when nothing is wired there.</summary>
    public IInterruptSource? ExtIntSource { get; set; }

    public bool GloballyEnabled => (_cpu.ApicBase & Processor.ApicBaseEnable) != 0;

    public bool X2ApicMode => (_cpu.ApicBase & Processor.ApicBaseX2Apic) != 0;

    public bool SoftwareEnabled => (_svr & SvrSoftwareEnable) != 0;

    /// <summary>The ID this APIC answers to: 32 bits in x2APIC mode, ID[31:24] in xAPIC mode.</summary>
    public uint Id => X2ApicMode ? ApicId : _id >> 24;

    /// <summary>The logical destination register as messages are matched against it.</summary>
    public uint LogicalId => X2ApicMode ? X2ApicLogicalId : _ldr >> 24;

    /// <summary>DFR[31:28] = 1111b: the flat model; 0000b: the cluster model (xAPIC only).</summary>
    public bool FlatModel => (_dfr >> 28) == 0xF;

    private uint X2ApicLogicalId => ((ApicId >> 4) << 16) | (1u << (int)(ApicId & 0xF));

    public byte TaskPriority
    {
        get => _tpr;
        set
        {
            _tpr = value;
            _cpu.NotifyInterrupt();
        }
    }

    /// <summary>The processor-priority register (SDM vol. 3, 11.8.3.1).</summary>
    public byte ProcessorPriority
    {
        get
        {
            var isrv = HighestVector(_isr);
            return (_tpr >> 4) >= (isrv >> 4) ? _tpr : (byte)(isrv & 0xF0);
        }
    }

    /// <summary>The arbitration-priority register (SDM vol. 3, 11.6.2.4), which picks the target of a lowest-priority message.</summary>
    public byte ArbitrationPriority
    {
        get
        {
            var isrv = HighestVector(_isr) >> 4;
            var irrv = HighestVector(_irr) >> 4;
            var tpr = _tpr >> 4;
            if (tpr >= irrv && tpr > isrv) return _tpr;
            return (byte)(Math.Max(tpr, Math.Max(isrv, irrv)) << 4);
        }
    }

    /// <summary>Power-up state (SDM vol. 3, 11.4.7.1): everything zero but the DFR (all ones), the masked LVT entries and SVR = FFh.</summary>
    private void PowerUp()
    {
        Array.Clear(_irr);
        Array.Clear(_isr);
        Array.Clear(_tmr);
        for (var i = 0; i < LvtCount; i++) _lvt[i] = LvtMask;
        _id = ApicId << 24;
        _tpr = 0;
        _ldr = 0;
        _dfr = 0xFFFF_FFFF;
        _svr = 0xFF;
        _esr = _pendingErrors = 0;
        _icrLow = _icrHigh = 0;
        _extIntMessage = false;
        ResetTimer();
    }

    public void Init()
    {
        var id = _id;
        PowerUp();
        _id = id;
    }

    public void BaseChanged(ulong previous, ulong current)
    {
        // A globally disabled APIC comes back in its power-up state (SDM vol. 3, 11.4.3); entering
        // x2APIC mode keeps the state, with the x2APIC ID and the derived LDR (11.12.5.1).
        if ((current & Processor.ApicBaseEnable) == 0 || (previous & Processor.ApicBaseEnable) == 0) PowerUp();
        _cpu.NotifyInterrupt();
    }

    /// <summary>Programs LINT0 as ExtINT and LINT1 as NMI and enables the APIC, as a PC BIOS leaves the bootstrap processor's (virtual-wire mode).</summary>
    public void SetUpVirtualWire()
    {
        _svr |= SvrSoftwareEnable;
        _lvt[LvtLint0] = (uint)DeliveryMode.ExtInt << 8;
        _lvt[LvtLint1] = (uint)DeliveryMode.Nmi << 8;
        _cpu.NotifyInterrupt();
    }

    /// <summary>The 8259 pair's INTR changed: the processor looks again.</summary>
    public void ExtIntChanged()
    {
        if (ExtIntRoutedHere) WakeAtNow();
        _cpu.NotifyInterrupt();
    }

    /// <summary>A sleeping processor (halted, waiting for a SIPI) slept until the message reached it: its clock moves to that moment.</summary>
    private void WakeAtNow()
    {
        if (_cpu.Activity == ActivityState.Active) return;
        var now = _clock.Now;
        if (_cpu.Cycles < now) _cpu.Cycles = now;
    }

    private bool ExtIntRoutedHere
    {
        get
        {
            if (ExtIntSource == null) return false;
            if (!GloballyEnabled) return true;
            var lint0 = _lvt[LvtLint0];
            return SoftwareEnabled && (lint0 & LvtMask) == 0 && (DeliveryMode)((lint0 >> 8) & 7) == DeliveryMode.ExtInt;
        }
    }

    public bool InterruptPending
    {
        get
        {
            if ((ExtIntRoutedHere || _extIntMessage) && ExtIntSource is { InterruptPending: true }) return true;
            if (!GloballyEnabled || !SoftwareEnabled) return false;
            var irrv = HighestVector(_irr);
            return irrv != 0 && (irrv >> 4) > (ProcessorPriority >> 4);
        }
    }

    /// <summary>The interrupt-acknowledge cycle: ExtINT goes to the 8259; else the highest IRR vector above the PPR moves to the ISR, or the spurious vector when none is.</summary>
    public byte Acknowledge()
    {
        if ((ExtIntRoutedHere || _extIntMessage) && ExtIntSource is { InterruptPending: true } pic)
        {
            _extIntMessage = false;
            return pic.Acknowledge();
        }
        var irrv = HighestVector(_irr);
        if (irrv == 0 || (irrv >> 4) <= (ProcessorPriority >> 4)) return (byte)_svr;
        Clear(_irr, irrv);
        Set(_isr, irrv);
        return (byte)irrv;
    }

    /// <summary>A message accepted by this APIC (the bus has matched its destination).</summary>
    public void Accept(in InterruptMessage message)
    {
        WakeAtNow();
        switch (message.Mode)
        {
            case DeliveryMode.Fixed or DeliveryMode.LowestPriority:
                if (message.Vector < 16)
                {
                    Error(EsrReceiveIllegalVector);
                    return;
                }
                if (!GloballyEnabled) return;
                Set(_irr, message.Vector);
                if (message.LevelTriggered) Set(_tmr, message.Vector);
                else Clear(_tmr, message.Vector);
                _cpu.NotifyInterrupt();
                break;
            case DeliveryMode.Nmi:
                _cpu.RaiseNmi();
                break;
            case DeliveryMode.Init:
                _cpu.RaiseInit();
                break;
            case DeliveryMode.StartUp:
                _cpu.RaiseStartupIpi(message.Vector);
                break;
            case DeliveryMode.ExtInt:
                // An ExtINT message (an I/O APIC entry of that mode): the vector comes from the 8259 at the acknowledge.
                _extIntMessage = true;
                _cpu.NotifyInterrupt();
                break;
        }
    }

    private void EndOfInterrupt()
    {
        var isrv = HighestVector(_isr);
        if (isrv == 0) return;
        Clear(_isr, isrv);
        if (IsSet(_tmr, isrv)) _bus.BroadcastEoi((byte)isrv);
        _cpu.NotifyInterrupt();
    }

    /// <summary>
    /// A performance counter's PMI through the performance-monitoring LVT entry. On Intel processors the
    /// interrupt also sets the entry's mask bit, so that the handler unmasks it again (SDM vol. 3, 11.5.1).
    /// </summary>
    public void PerformanceCounterOverflow()
    {
        if ((_lvt[LvtPerformance] & LvtMask) != 0) return;
        LocalInterrupt(LvtPerformance);
        if (_cpu.Vendor == CpuVendor.Intel) _lvt[LvtPerformance] |= LvtMask;
    }

    /// <summary>An interrupt from one of this APIC's own LVT sources (timer, error, LINT), unless its entry is masked.</summary>
    private void LocalInterrupt(int lvt)
    {
        var entry = _lvt[lvt];
        if ((entry & LvtMask) != 0 || !SoftwareEnabled || !GloballyEnabled) return;
        var mode = lvt is LvtTimer or LvtError ? DeliveryMode.Fixed : (DeliveryMode)((entry >> 8) & 7);
        Accept(new InterruptMessage((byte)entry, mode, false, Id, lvt is LvtLint0 or LvtLint1 && (entry & (1u << 15)) != 0));
    }

    private void Error(uint bits)
    {
        var fresh = (_pendingErrors | bits) != _pendingErrors;
        _pendingErrors |= bits;
        if (fresh) LocalInterrupt(LvtError);
    }

    /// <summary>Sends what the ICR holds: to the destination, or by shorthand to itself, all, or all but itself.</summary>
    private void SendIpi(uint low, uint destination)
    {
        var vector = (byte)low;
        var mode = (DeliveryMode)((low >> 8) & 7);
        var level = (low & (1u << 14)) != 0;
        var levelTriggered = (low & (1u << 15)) != 0;
        // An INIT with level de-assert only synchronizes arbitration IDs: nothing is delivered.
        if (mode == DeliveryMode.Init && levelTriggered && !level) return;
        if (mode is DeliveryMode.Fixed or DeliveryMode.LowestPriority && vector < 16)
        {
            Error(EsrSendIllegalVector);
            return;
        }
        var message = new InterruptMessage(vector, mode, (low & (1u << 11)) != 0, destination, levelTriggered && mode == DeliveryMode.Fixed);
        switch ((low >> 18) & 3)
        {
            case 0: _bus.Deliver(message, this); break;
            case 1: Accept(message); break;
            case 2: _bus.Broadcast(message, null); break;
            default: _bus.Broadcast(message, this); break;
        }
    }

    public ulong ReadRegister(uint offset, int size)
    {
        var value = ReadXApic(offset & ~0xFu);
        var shift = (int)(offset & 0xF) * 8;
        if (shift >= 32) return 0;
        value >>= shift;
        return size >= 4 ? value : value & ((1u << (8 * size)) - 1);
    }

    public void WriteRegister(uint offset, int size, ulong value)
    {
        // The registers take aligned 32-bit writes; narrower or misaligned ones do not reach them.
        if ((offset & 0xF) != 0 || size < 4) return;
        WriteXApic(offset, (uint)value);
    }

    private uint ReadXApic(uint offset)
    {
        switch (offset)
        {
            case 0x020: return _id;
            case 0x030: return VersionValue;
            case 0x080: return _tpr;
            case 0x090: return ArbitrationPriority;
            case 0x0A0: return ProcessorPriority;
            case 0x0B0: return 0;
            case 0x0D0: return _ldr;
            case 0x0E0: return _dfr;
            case 0x0F0: return _svr;
            case >= 0x100 and <= 0x170: return _isr[(offset - 0x100) >> 4];
            case >= 0x180 and <= 0x1F0: return _tmr[(offset - 0x180) >> 4];
            case >= 0x200 and <= 0x270: return _irr[(offset - 0x200) >> 4];
            case 0x280: return _esr;
            case 0x300: return _icrLow;
            case 0x310: return _icrHigh;
            case >= 0x320 and <= 0x370: return _lvt[(offset - 0x320) >> 4];
            case 0x380: return _initialCount;
            case 0x390: return CurrentCount;
            case 0x3E0: return _divideConfiguration;
            default:
                Error(EsrIllegalRegister);
                return 0;
        }
    }

    private void WriteXApic(uint offset, uint value)
    {
        switch (offset)
        {
            case 0x020: _id = value & 0xFF00_0000; break;
            case 0x080: TaskPriority = (byte)value; break;
            case 0x0B0: EndOfInterrupt(); break;
            case 0x0D0: _ldr = value & 0xFF00_0000; break;
            case 0x0E0: _dfr = value | 0x0FFF_FFFF; break;
            case 0x0F0: WriteSvr(value); break;
            case 0x280: LatchErrors(); break;
            case 0x300:
                _icrLow = value & 0x000C_CFFF;
                SendIpi(_icrLow, _icrHigh >> 24);
                break;
            case 0x310: _icrHigh = value & 0xFF00_0000; break;
            case >= 0x320 and <= 0x370: WriteLvt((int)((offset - 0x320) >> 4), value); break;
            case 0x380: WriteInitialCount(value); break;
            case 0x3E0: WriteDivideConfiguration(value); break;
            case 0x030 or 0x090 or 0x0A0 or 0x0C0 or (>= 0x100 and <= 0x270) or 0x390: break;
            default: Error(EsrIllegalRegister); break;
        }
    }

    private void WriteSvr(uint value)
    {
        _svr = value & 0x3FF;
        // Software disable masks every LVT entry, and they stay masked until it is enabled again (SDM vol. 3, 11.4.7.2).
        if (!SoftwareEnabled)
            for (var i = 0; i < LvtCount; i++) _lvt[i] |= LvtMask;
        ArmTimer();
        _cpu.NotifyInterrupt();
    }

    private void LatchErrors()
    {
        _esr = _pendingErrors;
        _pendingErrors = 0;
    }

    private static readonly uint[] LvtWritable =
    [
        0x0007_00FF, // timer: vector, mask, mode (bits 17-18)
        0x0001_07FF, // thermal: vector, delivery mode, mask
        0x0001_07FF, // performance counters
        0x0001_A7FF, // LINT0: vector, delivery mode, polarity, trigger, mask
        0x0001_A7FF, // LINT1
        0x0001_00FF, // error: vector, mask
    ];

    private void WriteLvt(int index, uint value)
    {
        var kept = _lvt[index] & ~LvtWritable[index];
        var entry = (value & LvtWritable[index]) | kept;
        if (!SoftwareEnabled) entry |= LvtMask;
        var previous = _lvt[index];
        _lvt[index] = entry;
        if (index == LvtTimer) TimerModeWritten(previous, entry);
        _cpu.NotifyInterrupt();
    }

    private static int HighestVector(uint[] bits)
    {
        for (var i = 7; i >= 0; i--)
            if (bits[i] != 0) return i * 32 + 31 - BitOperations.LeadingZeroCount(bits[i]);
        return 0;
    }

    private static void Set(uint[] bits, int vector) => bits[vector >> 5] |= 1u << (vector & 31);

    private static void Clear(uint[] bits, int vector) => bits[vector >> 5] &= ~(1u << (vector & 31));

    private static bool IsSet(uint[] bits, int vector) => (bits[vector >> 5] & (1u << (vector & 31))) != 0;
}
