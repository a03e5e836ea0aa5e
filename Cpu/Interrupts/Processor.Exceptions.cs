using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Exception and interrupt delivery (SDM vol. 3, ch. 6): faults, double fault and shutdown, delivery through the IVT or the IDT in every mode.</summary>
public sealed unsafe partial class Processor
{
    private int _pendingVector = -1;
    private uint _pendingError;

    /// <summary>The vector and error code of an exception the processor is about to deliver, if any.</summary>
    public (int Vector, uint ErrorCode)? PendingException => _pendingVector >= 0 ? (_pendingVector, _pendingError) : null;

    /// <summary>Records a fault of the current instruction; returns false so that handlers can return it.</summary>
    private bool RaiseFault(int vector, uint error)
    {
        // A refused second-level translation wins over the fault its caller would raise next (a PDPTE load's #GP).
        if (_pendingVector == SecondLevelFaultVector && !_delivering) return false;
        if (_pendingVector >= 0 && _delivering)
        {
            _nestedVector = vector;
            _nestedError = error;
            return false;
        }
        _pendingVector = vector;
        _pendingError = error;
        return false;
    }

    private bool _delivering;
    private int _nestedVector = -1;
    private uint _nestedError;
    private ulong _eventRip;

    /// <summary>Delivers the pending exception of the current instruction, applying the double- and triple-fault rules.</summary>
    private void DeliverPendingException()
    {
        if (_pendingVector < 0) return;
        var vector = _pendingVector;
        var error = _pendingError;
        _pendingVector = -1;
        if (vector == SecondLevelFaultVector)
        {
            if (Hooks != null) Offer(new Intercept(InterceptKind.SecondLevelFault));
            _stopBlock = true;
            _eventsPending = true;
            return;
        }
        if (Hooks != null && Offer(HardwareExceptionIntercept(vector, error)))
        {
            if (vector == ExceptionVector.DB) _pendingDebugStatus = 0;
            return;
        }
        // A fault's saved EFLAGS has RF set, so that the instruction can resume without an instruction breakpoint (17.3.1.1).
        if (SetsResumeFlag(vector)) _flags |= Rflags.RF;
        if (vector == ExceptionVector.DB)
        {
            // B0-B3 report this #DB's breakpoints only, as Bochs does; BD, BS and BT stay until software clears them (17.2.3).
            _dr[6] = (_dr[6] & ~DebugStatus.Breakpoints) | _pendingDebugStatus;
            _pendingDebugStatus = 0;
            // The handler may access the debug registers (17.2.4).
            _dr[7] &= ~DebugControl.GD;
        }
        // Delivering a fault takes a cycle: a handler that faults at once (a real-mode IVT whose stack
        // wraps, an unfetchable handler) would otherwise loop without the clock reaching any limit.
        AddCycles(1);
        ExceptionsDelivered++;
        DeliverEvent(vector, EventKind.Exception, error, ExceptionVector.HasErrorCode(vector));
    }

    private ulong _pendingDebugStatus;

    /// <summary>
    /// The DR6 status bits of the #DB about to be delivered (B0–B3, BD, BS). They reach DR6 when the
    /// #DB is delivered, not when a virtualization unit takes it: a VMX exit leaves DR6 unmodified and
    /// reports them in its qualification.
    /// </summary>
    public ulong PendingDebugStatus => _pendingDebugStatus;

    /// <summary>
    /// Delivers an event through the IDT in the current mode. A fault during delivery combines with
    /// the first as SDM vol. 3 table 6-5 says: benign ones are delivered in turn, contributory after
    /// contributory (or page fault after page fault or contributory) becomes #DF, and any fault while
    /// delivering #DF shuts the processor down.
    /// </summary>
    private void DeliverEvent(int vector, EventKind kind, uint error, bool hasError)
    {
        var savedRip = Rip;
        _eventRip = savedRip;
        var first = true;
        while (true)
        {
            // CR2 is written when a #PF is delivered, not when it is detected: a unit that intercepts it reads the address instead.
            if (vector == ExceptionVector.PF && kind == EventKind.Exception && !(first && _injecting)) Cr2 = _faultAddress;
            first = false;
            _nestedVector = -1;
            _delivering = true;
            _pendingVector = vector;
            var ok = DeliverThroughIdt(vector, kind, error, hasError);
            _delivering = false;
            _pendingVector = -1;
            if (ok)
            {
                _stopBlock = true;
                _eventsPending = true;
                return;
            }
            var second = _nestedVector;
            var secondError = _nestedError;
            if (second < 0)
            {
                second = ExceptionVector.GP;
                secondError = 0;
            }
            Rip = savedRip;
            if (Hooks != null && DeliveryIntercepted(vector, kind, error, hasError, second, secondError)) return;
            // INT n, INTR and NMI are benign whatever their vector (table 6-4); only exceptions combine.
            var exception = kind == EventKind.Exception;
            if (exception && vector == ExceptionVector.DF)
            {
                EnterShutdown();
                return;
            }
            var firstClass = !exception ? 0 : ExceptionVector.IsContributory(vector) ? 1 : vector == ExceptionVector.PF ? 2 : 0;
            var secondClass = ExceptionVector.IsContributory(second) ? 1 : second == ExceptionVector.PF ? 2 : 0;
            if ((firstClass == 1 && secondClass == 1) || (firstClass == 2 && secondClass != 0))
            {
                vector = ExceptionVector.DF;
                error = 0;
                hasError = true;
                if (Hooks != null && Offer(HardwareExceptionIntercept(ExceptionVector.DF, 0))) return;
            }
            else
            {
                vector = second;
                error = secondError;
                hasError = ExceptionVector.HasErrorCode(second);
            }
            kind = EventKind.Exception;
        }
    }

    /// <summary>
    /// Offers the unit a fault that arose while delivering an event (or a refused second-level
    /// translation, which always goes to it), with the first event as <see cref="Intercept.EventInDelivery"/>.
    /// </summary>
    private bool DeliveryIntercepted(int vector, EventKind kind, uint error, bool hasError, int second, uint secondError)
    {
        NoteEventInDelivery(vector, kind, error, hasError);
        var handled = second == SecondLevelFaultVector
            ? Offer(new Intercept(InterceptKind.SecondLevelFault)) || true
            : Offer(HardwareExceptionIntercept(second, secondError));
        _hasEventInDelivery = false;
        if (handled)
        {
            _stopBlock = true;
            _eventsPending = true;
        }
        return handled;
    }

    /// <summary>Makes the event <see cref="Intercept.EventInDelivery"/> while something about its delivery reaches the unit.</summary>
    private void NoteEventInDelivery(int vector, EventKind kind, uint error, bool hasError)
    {
        var type = kind switch
        {
            EventKind.Exception => EventType.HardwareException,
            EventKind.External => EventType.ExternalInterrupt,
            EventKind.Nmi => EventType.Nmi,
            EventKind.PrivilegedSoftware => EventType.PrivilegedSoftwareException,
            _ => _softwareEventType,
        };
        var length = kind is EventKind.Software or EventKind.PrivilegedSoftware ? _softwareIntLength : 0;
        _eventInDelivery = new DeliveredEvent(vector, type, error, hasError, length);
        _hasEventInDelivery = true;
    }

    private Intercept HardwareExceptionIntercept(int vector, uint error) =>
        new(InterceptKind.Exception) { Exception = new(vector, error, EventType.HardwareException, _faultAddress) };

    /// <summary>Whether the software event being delivered is INT n or a software exception (INT3, INTO).</summary>
    private EventType _softwareEventType = EventType.SoftwareInterrupt;

    /// <summary>Triple fault: the processor stops executing until reset, INIT or an NMI/SMI that it does not get.</summary>
    private void EnterShutdown()
    {
        if (Hooks != null && Offer(new Intercept(InterceptKind.TripleFault))) return;
        Activity = ActivityState.Shutdown;
        _stopBlock = true;
        _eventsPending = true;
    }

    private bool DeliverThroughIdt(int vector, EventKind kind, uint error, bool hasError)
    {
        var returnRip = kind is EventKind.Software or EventKind.PrivilegedSoftware ? Rip + (ulong)_softwareIntLength : Rip;
        if (!InProtectedMode) return DeliverReal(vector, returnRip);
        if (InLongMode) return DeliverLong(vector, kind, error, hasError, returnRip);
        return DeliverProtected(vector, kind, error, hasError, returnRip);
    }

    private int _softwareIntLength;

    private ulong IdtErrorCode(int vector, EventKind kind) =>
        (ulong)(vector * 8 + 2 + (kind != EventKind.Software ? 1 : 0));

    private bool DeliverReal(int vector, ulong returnRip)
    {
        if ((ulong)vector * 4 + 3 > Idtr.Limit) return RaiseFault(ExceptionVector.GP, 0);
        if (!ReadSystem(Idtr.Base + (ulong)vector * 4, 4, out var entry)) return false;
        var flags = MaterializeFlags();
        var sp = _r[4];
        var ssBase = _segCheck[(int)SegmentIndex.SS].Base;
        if (!WriteLinear((uint)(ssBase + (ushort)(sp - 2)), 2, flags)) return false;
        if (!WriteLinear((uint)(ssBase + (ushort)(sp - 4)), 2, _seg[(int)SegmentIndex.CS].Selector)) return false;
        if (!WriteLinear((uint)(ssBase + (ushort)(sp - 6)), 2, returnRip)) return false;
        _r[4] = (sp & ~0xFFFFUL) | (ushort)(sp - 6);
        _flags &= ~(Rflags.IF | Rflags.TF | Rflags.AC | Rflags.RF);
        LoadRealModeSegment((int)SegmentIndex.CS, (ushort)(entry >> 16));
        Rip = (ushort)entry;
        return true;
    }

    private bool ReadIdtGate(int vector, EventKind kind, int size, out ulong low, out ulong high)
    {
        low = high = 0;
        var offset = (ulong)vector * (ulong)size;
        if (offset + (ulong)size - 1 > Idtr.Limit) return RaiseFault(ExceptionVector.GP, (uint)IdtErrorCode(vector, kind));
        if (!ReadSystem(Idtr.Base + offset, 8, out low)) return false;
        if (size == 16 && !ReadSystem(Idtr.Base + offset + 8, 8, out high)) return false;
        return true;
    }

    private bool DeliverProtected(int vector, EventKind kind, uint error, bool hasError, ulong returnRip)
    {
        if (!ReadIdtGate(vector, kind, 8, out var gate, out _)) return false;
        var idtError = (uint)IdtErrorCode(vector, kind);
        var type = (int)(gate >> 40) & 0x1F;
        var dpl = (int)(gate >> 45) & 3;
        var present = ((gate >> 47) & 1) != 0;
        if (type is not (0x05 or 0x06 or 0x07 or 0x0E or 0x0F)) return RaiseFault(ExceptionVector.GP, idtError);
        if (kind == EventKind.Software && dpl < Cpl) return RaiseFault(ExceptionVector.GP, idtError);
        if (!present) return RaiseFault(ExceptionVector.NP, idtError);
        if (type == 0x05)
        {
            // The switch is part of the event's delivery: a unit that intercepts it reports the event (VMX IDT-vectoring information).
            NoteEventInDelivery(vector, kind, error, hasError);
            var switched = TaskSwitch((ushort)(gate >> 16), TaskSwitchSource.Gate, returnRip, hasError, error, kind != EventKind.Software);
            _hasEventInDelivery = false;
            return switched;
        }

        var gate32 = (type & 8) != 0;
        var selector = (ushort)(gate >> 16);
        var offset = (gate & 0xFFFF) | ((gate >> 32) & 0xFFFF0000UL);
        if (!gate32) offset &= 0xFFFF;
        var ext = kind != EventKind.Software ? 1u : 0u;
        if ((selector & 0xFFFC) == 0) return RaiseFault(ExceptionVector.GP, ext);
        if (!ReadDescriptor(selector, out var desc, ExceptionVector.GP, ext)) return false;
        var target = DescriptorToSegment(selector, desc);
        if (!target.IsCode || target.Dpl > Cpl) return RaiseFault(ExceptionVector.GP, (uint)(selector & 0xFFFC) | ext);
        if (!target.Present) return RaiseFault(ExceptionVector.NP, (uint)(selector & 0xFFFC) | ext);

        var conforming = (target.Type & 4) != 0;
        var fromV86 = InVirtual8086Mode;
        var oldFlags = MaterializeFlags();
        var oldCs = _seg[(int)SegmentIndex.CS].Selector;
        var oldSs = _seg[(int)SegmentIndex.SS].Selector;
        var oldEsp = _r[4];
        var entrySize = gate32 ? 4 : 2;

        if (!conforming && target.Dpl < Cpl)
        {
            if (fromV86 && target.Dpl != 0) return RaiseFault(ExceptionVector.GP, (uint)(selector & 0xFFFC) | ext);
            var newCpl = target.Dpl;
            if (!ReadTssStack(newCpl, out var newSsSel, out var newEsp, ext)) return false;
            if (!LoadStackForPrivilegeChange(newSsSel, newCpl, ext, out var newSs)) return false;
            var stackBase = newSs.Base;
            var sp = newEsp;
            var spMask = newSs.DefaultBig ? 0xFFFFFFFFUL : 0xFFFFUL;
            // Build the frame on the new stack through supervisor writes; nothing is committed until all succeed.
            var values = _frameScratch;
            var n = 0;
            if (fromV86)
            {
                values[n++] = _seg[(int)SegmentIndex.GS].Selector;
                values[n++] = _seg[(int)SegmentIndex.FS].Selector;
                values[n++] = _seg[(int)SegmentIndex.DS].Selector;
                values[n++] = _seg[(int)SegmentIndex.ES].Selector;
            }
            values[n++] = oldSs;
            values[n++] = oldEsp;
            values[n++] = oldFlags;
            values[n++] = oldCs;
            values[n++] = returnRip;
            if (hasError) values[n++] = error;
            if (!FrameFitsStack(newSs, newSsSel, sp, n * entrySize, spMask, ext)) return false;
            for (var i = 0; i < n; i++)
            {
                sp -= (ulong)entrySize;
                if (!WriteSystem(stackBase + (sp & spMask), entrySize, values[i]))
                    return false;
            }
            _seg[(int)SegmentIndex.SS] = newSs;
            SegmentChanged((int)SegmentIndex.SS);
            _r[4] = newSs.DefaultBig ? sp & 0xFFFFFFFF : (oldEsp & ~0xFFFFUL) | (sp & 0xFFFF);
            if (fromV86)
            {
                for (var s = 0; s < 6; s++)
                {
                    if (s is (int)SegmentIndex.CS or (int)SegmentIndex.SS) continue;
                    _seg[s] = new SegmentRegister { Attributes = SegmentRegister.UnusableBit };
                    SegmentChanged(s);
                }
            }
        }
        else
        {
            if (fromV86) return RaiseFault(ExceptionVector.GP, (uint)(selector & 0xFFFC) | ext);
            var sp = oldEsp;
            var ss = _seg[(int)SegmentIndex.SS];
            var spMask = ss.DefaultBig ? 0xFFFFFFFFUL : 0xFFFFUL;
            var values = _frameScratch;
            var n = 0;
            values[n++] = oldFlags;
            values[n++] = oldCs;
            values[n++] = returnRip;
            if (hasError) values[n++] = error;
            for (var i = 0; i < n; i++)
            {
                sp -= (ulong)entrySize;
                if (!ToLinear((int)SegmentIndex.SS, sp & spMask, entrySize, AccessWrite, out var lin)) return false;
                if (!WriteLinear(lin, entrySize, values[i])) return false;
            }
            _r[4] = (oldEsp & ~spMask) | (sp & spMask);
        }

        target.Selector = (ushort)((selector & 0xFFFC) | (conforming ? Cpl : target.Dpl));
        if (!conforming) target.Attributes = (target.Attributes & ~0x60u) | (uint)(target.Dpl << 5);
        SetAccessedBit(selector, desc);
        _flags = oldFlags & ~(Rflags.TF | Rflags.NT | Rflags.RF | Rflags.VM);
        if ((type & 1) == 0) _flags &= ~Rflags.IF;
        _lazyMask = 0;
        _seg[(int)SegmentIndex.CS] = target;
        Rip = offset;
        AllSegmentsChanged();
        return true;
    }

    private readonly ulong[] _frameScratch = new ulong[16];

    /// <summary>
    /// Whether a frame of <paramref name="bytes"/> pushed below <paramref name="sp"/> fits the limit of
    /// the new stack segment of an inter-privilege transfer; else raises #SS(new SS selector), before
    /// anything is written (SDM vol. 3, 6.12.1; CALL through a call gate in vol. 2).
    /// </summary>
    private bool FrameFitsStack(SegmentRegister ss, ushort ssSelector, ulong sp, int bytes, ulong spMask, uint ext)
    {
        var low = ss.IsExpandDown ? (ulong)ss.Limit + 1 : 0;
        var high = ss.IsExpandDown ? spMask : ss.Limit;
        var first = (sp - (ulong)bytes) & spMask;
        var last = (sp - 1) & spMask;
        if (first > last || first < low || last > high) return RaiseFault(ExceptionVector.SS, (uint)(ssSelector & 0xFFFC) | ext);
        return true;
    }

    private bool DeliverLong(int vector, EventKind kind, uint error, bool hasError, ulong returnRip)
    {
        if (!ReadIdtGate(vector, kind, 16, out var gate, out var gateHigh)) return false;
        var idtError = (uint)IdtErrorCode(vector, kind);
        var type = (int)(gate >> 40) & 0x1F;
        var dpl = (int)(gate >> 45) & 3;
        var present = ((gate >> 47) & 1) != 0;
        // The type field of a 16-byte gate's upper half must be 0 (SDM vol. 3, figure 6-8).
        if (type is not (0x0E or 0x0F) || ((gateHigh >> 40) & 0x1F) != 0) return RaiseFault(ExceptionVector.GP, idtError);
        if (kind == EventKind.Software && dpl < Cpl) return RaiseFault(ExceptionVector.GP, idtError);
        if (!present) return RaiseFault(ExceptionVector.NP, idtError);
        var selector = (ushort)(gate >> 16);
        var offset = (gate & 0xFFFF) | ((gate >> 32) & 0xFFFF0000UL) | ((gateHigh & 0xFFFFFFFF) << 32);
        var ist = (int)(gate >> 32) & 7;
        var ext = kind != EventKind.Software ? 1u : 0u;
        if ((selector & 0xFFFC) == 0) return RaiseFault(ExceptionVector.GP, ext);
        if (!ReadDescriptor(selector, out var desc, ExceptionVector.GP, ext)) return false;
        var target = DescriptorToSegment(selector, desc);
        if (!target.IsCode || target.Dpl > Cpl || !target.Long || target.DefaultBig)
            return RaiseFault(ExceptionVector.GP, (uint)(selector & 0xFFFC) | ext);
        if (!target.Present) return RaiseFault(ExceptionVector.NP, (uint)(selector & 0xFFFC) | ext);
        if (!IsCanonical(offset)) return RaiseFault(ExceptionVector.GP, ext);

        var conforming = (target.Type & 4) != 0;
        var newCpl = conforming ? Cpl : target.Dpl;
        var oldFlags = MaterializeFlags();
        var oldSs = _seg[(int)SegmentIndex.SS];
        var oldRsp = _r[4];
        ulong rsp;
        if (ist != 0)
        {
            if (!ReadTss64(0x24 + (ist - 1) * 8, out rsp, ext)) return false;
        }
        else if (newCpl < Cpl)
        {
            if (!ReadTss64(4 + newCpl * 8, out rsp, ext)) return false;
        }
        else rsp = oldRsp;
        rsp &= ~0xFUL;
        var values = _frameScratch;
        var n = 0;
        values[n++] = oldSs.Selector;
        values[n++] = oldRsp;
        values[n++] = oldFlags;
        values[n++] = _seg[(int)SegmentIndex.CS].Selector;
        values[n++] = returnRip;
        if (hasError) values[n++] = error;
        // The whole frame must lie at canonical addresses before anything is written: else #SS(EXT).
        if (!IsCanonical(rsp - 1) || !IsCanonical(rsp - (ulong)(8 * n))) return RaiseFault(ExceptionVector.SS, ext);
        var sp = rsp;
        for (var i = 0; i < n; i++)
        {
            sp -= 8;
            if (!WriteLinearAs(sp, 8, values[i], newCpl)) return false;
        }
        if (newCpl < Cpl)
        {
            // In 64-bit mode a privilege change loads SS with a null selector whose RPL is the new CPL.
            _seg[(int)SegmentIndex.SS] = new SegmentRegister { Selector = (ushort)newCpl, Attributes = SegmentRegister.UnusableBit | (uint)(newCpl << 5) };
        }
        _r[4] = sp;
        target.Selector = (ushort)((selector & 0xFFFC) | newCpl);
        target.Attributes = (target.Attributes & ~0x60u) | (uint)(newCpl << 5);
        SetAccessedBit(selector, desc);
        _flags = oldFlags & ~(Rflags.TF | Rflags.NT | Rflags.RF | Rflags.VM);
        if ((type & 1) == 0) _flags &= ~Rflags.IF;
        _lazyMask = 0;
        _seg[(int)SegmentIndex.CS] = target;
        Rip = offset;
        AllSegmentsChanged();
        return true;
    }
}
