using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>The software interrupt instructions and IRET (SDM vol. 1, 5.1.7): INT n, INT3, INTO, INT1, IRET/IRETD/IRETQ.</summary>
public sealed unsafe partial class Processor
{
    private bool SoftwareInterrupt(ref DecodedOp op, int vector, EventKind kind)
    {
        // SVM's INTn intercept comes before any exception is checked (APM vol. 2, table 15-7).
        if (Hooks != null && op.Handler == Handler.Int && Intercepted(ref op, new Intercept(InterceptKind.SoftwareInterrupt) { Vector = (byte)vector })) return _hookRetired;
        if (InVirtual8086Mode && kind == EventKind.Software && op.Handler == Handler.Int && Iopl < 3)
            return RaiseFault(ExceptionVector.GP, 0);
        if (Hooks != null)
        {
            // INT3 and INTO are software exceptions, INT1 a privileged one, seen by the exception intercepts.
            if (op.Handler == Handler.Int1 && Intercepted(ref op, InterceptKind.Icebp)) return _hookRetired;
            if (op.Handler != Handler.Int)
            {
                var type = op.Handler == Handler.Int1 ? EventType.PrivilegedSoftwareException : EventType.SoftwareException;
                if (Intercepted(ref op, new Intercept(InterceptKind.Exception) { Exception = new(vector, 0, type, 0) })) return _hookRetired;
            }
        }
        _softwareIntLength = op.Length;
        _softwareEventType = op.Handler == Handler.Int ? EventType.SoftwareInterrupt : EventType.SoftwareException;
        DeliverEvent(vector, kind, 0, false);
        _softwareIntLength = 0;
        _softwareEventType = EventType.SoftwareInterrupt;
        return Activity != ActivityState.Shutdown;
    }

    /// <summary>IRET/IRETD/IRETQ in every mode (SDM vol. 2, IRET pseudocode).</summary>
    private bool InterruptReturn(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, InterceptKind.Iret)) return _hookRetired;
        // NMIs are unblocked by an IRET that completes, not by one that faults.
        if (!InterruptReturnCore(ref op)) return false;
        _nmiBlocked = false;
        _eventsPending = true;
        return true;
    }

    private bool InterruptReturnCore(ref DecodedOp op)
    {
        var size = op.Size;
        if (!InProtectedMode)
        {
            if (!PeekStack(0, size, out var ip) || !PeekStack((ulong)size, size, out var cs) || !PeekStack((ulong)(2 * size), size, out var fl))
                return false;
            if ((ip & OperandMask(size)) > _seg[(int)SegmentIndex.CS].Limit) return RaiseFault(ExceptionVector.GP, 0);
            SetStackPointer(_r[4] + (ulong)(3 * size));
            WriteFlagsChecked(fl, size, true);
            LoadRealModeCode((ushort)cs, ip & OperandMask(size));
            return true;
        }
        if (InVirtual8086Mode)
        {
            if (Iopl < 3) return RaiseFault(ExceptionVector.GP, 0);
            if (!PeekStack(0, size, out var ip) || !PeekStack((ulong)size, size, out var cs) || !PeekStack((ulong)(2 * size), size, out var fl))
                return false;
            SetStackPointer(_r[4] + (ulong)(3 * size));
            // In virtual-8086 mode IRET leaves IOPL and VM alone.
            var keep = MaterializeFlags() & (Rflags.IOPL | Rflags.VM | Rflags.VIF | Rflags.VIP);
            var mask = size == 2 ? 0xFFFFUL : Rflags.Implemented;
            var merged = (MaterializeFlags() & ~mask) | (fl & mask);
            _flags = ((merged & ~(Rflags.IOPL | Rflags.VM | Rflags.VIF | Rflags.VIP)) | keep) & Rflags.Implemented | Rflags.Reserved1;
            UpdateAlignmentCheck();
            _eventsPending = true;
            LoadRealModeCode((ushort)cs, ip & 0xFFFF);
            return true;
        }
        if ((_flags & Rflags.NT) != 0)
        {
            if (InLongMode) return RaiseFault(ExceptionVector.GP, 0);
            return TaskReturn(op.Length);
        }
        {
            if (!PeekStack(0, size, out var ip) || !PeekStack((ulong)size, size, out var csValue) || !PeekStack((ulong)(2 * size), size, out var fl))
                return false;
            var selector = (ushort)csValue;
            if (size == 4 && (fl & Rflags.VM) != 0 && Cpl == 0 && !InLongMode) return ReturnToVirtual8086(ip, selector, fl);
            if (!CheckReturnCode(selector, out var desc, out var code)) return false;
            var rpl = selector & 3;
            var target = InLongMode && code.Long ? ip : ip & OperandMask(size);
            if (!CheckOffsetInCode(code, target)) return false;
            var fromLong64 = _bitness == 64;
            if (rpl == Cpl && !fromLong64)
            {
                SetStackPointer(_r[4] + (ulong)(3 * size));
                WriteFlagsChecked(fl, size, true);
                CommitCode(selector, desc, code, Cpl, target);
                return true;
            }
            if (!PeekStack((ulong)(3 * size), size, out var sp) || !PeekStack((ulong)(4 * size), size, out var ss)) return false;
            var oldCpl = Cpl;
            // Flags are written with the privilege of the level IRET starts from.
            var flagsBefore = MaterializeFlags();
            WriteFlagsChecked(fl, size, true);
            if (rpl == oldCpl)
            {
                // 64-bit mode: IRET always pops SS:RSP, even at the same privilege level.
                if ((ss & 0xFFFC) == 0 && !(code.Long && rpl != 3))
                {
                    _flags = flagsBefore;
                    UpdateAlignmentCheck();
                    return RaiseFault(ExceptionVector.GP, 0);
                }
            }
            if (!ReturnToOuterLevel(selector, desc, code, target, (ushort)ss, sp, size))
            {
                _flags = flagsBefore;
                UpdateAlignmentCheck();
                return false;
            }
            return true;
        }
    }

    private bool ReturnToVirtual8086(ulong ip, ushort cs, ulong fl)
    {
        var frame = _frameScratch;
        for (var i = 0; i < 6; i++)
            if (!PeekStack((ulong)(12 + i * 4), 4, out frame[i])) return false;
        _flags = (fl & Rflags.Implemented) | Rflags.Reserved1;
        _lazyMask = 0;
        var esp = frame[0];
        var ss = (ushort)frame[1];
        LoadRealModeSegment((int)SegmentIndex.ES, (ushort)frame[2]);
        LoadRealModeSegment((int)SegmentIndex.DS, (ushort)frame[3]);
        LoadRealModeSegment((int)SegmentIndex.FS, (ushort)frame[4]);
        LoadRealModeSegment((int)SegmentIndex.GS, (ushort)frame[5]);
        LoadRealModeSegment((int)SegmentIndex.SS, ss);
        LoadRealModeSegment((int)SegmentIndex.CS, cs);
        _r[4] = (uint)esp;
        Rip = ip & 0xFFFF;
        AllSegmentsChanged();
        _eventsPending = true;
        return true;
    }

    private bool InterruptOnOverflow(ref DecodedOp op)
    {
        if (!GetOF()) return Next(ref op);
        return SoftwareInterrupt(ref op, ExceptionVector.OF, EventKind.Software);
    }
}
