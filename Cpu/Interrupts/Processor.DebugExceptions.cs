using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>
/// Debug exceptions (SDM vol. 3, 17.2–17.3): the breakpoint conditions of DR0–DR3 under DR7, the
/// single-step and task-switch traps, RF, and the hold of MOV SS / POP SS (6.8.3). None of it costs
/// anything while DR7 enables no breakpoint: data breakpoints keep their pages out of the software
/// TLB so that the slow path sees the accesses, and instruction breakpoints make the run loop step
/// through blocks on their pages only.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>An enabled instruction breakpoint exists.</summary>
    private bool _instructionBreakpointsArmed;

    /// <summary>Some breakpoint is enabled and some DRn is a data breakpoint: accesses to its page are compared.</summary>
    private bool _dataBreakpointsArmed;

    /// <summary>CR4.DE is set, some breakpoint is enabled and some DRn is an I/O breakpoint.</summary>
    private bool _ioBreakpointsArmed;

    /// <summary>
    /// The debug conditions the current instruction met, reported as one trap after it: B0–B3 of
    /// matching data and I/O breakpoints (enabled or not, as Bochs sets them), BS, BT, and
    /// <see cref="BreakpointHit"/> when an enabled one matched. Held while MOV SS blocks.
    /// </summary>
    private ulong _debugTrapStatus;

    /// <summary>Internal mark (DR6 bit 12 is reserved): an enabled breakpoint matched, so the B bits are reported.</summary>
    private const ulong BreakpointHit = 1UL << 12;

    /// <summary>The conditions that deliver a #DB; B0–B3 alone only ride along.</summary>
    private const ulong DebugTrapReported = BreakpointHit | DebugStatus.BD | DebugStatus.BS | DebugStatus.BT;

    /// <summary>Recomputes which kinds of breakpoint DR7 arms, after a write to DR0–DR3, DR7 or CR4.</summary>
    private void BreakpointsChanged()
    {
        var dr7 = _dr[7];
        var any = (dr7 & DebugControl.Enables) != 0;
        bool instruction = false, data = false, io = false;
        for (var n = 0; n < 4; n++)
        {
            var type = DebugControl.Type(dr7, n);
            if (type == DebugControl.Execute && DebugControl.Enabled(dr7, n)) instruction = true;
            else if ((type & 1) != 0) data |= any;
            else if (type == DebugControl.Io) io |= any && (Cr4 & Registers.Cr4.DE) != 0;
        }
        _instructionBreakpointsArmed = instruction;
        _ioBreakpointsArmed = io;
        _dataBreakpointsArmed = data;
        // Entries made before the change may cover a breakpoint's page.
        if (data) FlushTranslations();
    }

    /// <summary>
    /// B0–B3 of the breakpoints of types <paramref name="typeA"/> or <paramref name="typeB"/> whose
    /// range overlaps the <paramref name="size"/> bytes at <paramref name="first"/>, with
    /// <see cref="BreakpointHit"/> if one of them is enabled (SDM vol. 3, 17.2.5).
    /// </summary>
    private ulong MatchBreakpoints(ulong first, int size, int typeA, int typeB)
    {
        var dr7 = _dr[7];
        var last = first + (ulong)size - 1;
        ulong status = 0;
        for (var n = 0; n < 4; n++)
        {
            var type = DebugControl.Type(dr7, n);
            if (type != typeA && type != typeB) continue;
            var mask = DebugControl.LengthMask(dr7, n);
            var start = _dr[n] & ~mask;
            if (first > start + mask || last < start) continue;
            status |= 1UL << n;
            if (DebugControl.Enabled(dr7, n)) status |= BreakpointHit;
        }
        return status;
    }

    /// <summary>Whether a data breakpoint lies on the linear page of <paramref name="linear"/>: the TLB must not map it.</summary>
    private bool DataBreakpointOnPage(ulong linear)
    {
        var dr7 = _dr[7];
        for (var n = 0; n < 4; n++)
            if ((DebugControl.Type(dr7, n) & 1) != 0 && ((_dr[n] ^ linear) & ~0xFFFUL) == 0) return true;
        return false;
    }

    /// <summary>A data access that reached the slow path while data breakpoints are armed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MatchDataBreakpoints(ulong linear, int size, bool write)
    {
        // A write matches R/W = 01b and 11b, a read only 11b.
        var status = MatchBreakpoints(linear, size, DebugControl.ReadWrite, write ? DebugControl.Write : DebugControl.ReadWrite);
        if (status == 0) return;
        _debugTrapStatus |= status;
        _stopBlock = true;
    }

    /// <summary>An IN, OUT, INS or OUTS to <paramref name="size"/> ports at <paramref name="port"/> while I/O breakpoints are armed.</summary>
    private void MatchIoBreakpoints(ushort port, int size)
    {
        var status = MatchBreakpoints(port, size, DebugControl.Io, DebugControl.Io);
        if (status == 0) return;
        _debugTrapStatus |= status;
        _stopBlock = true;
    }

    /// <summary>Whether an enabled instruction breakpoint lies on the linear page of CS:RIP, whose block then runs one instruction at a time.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool InstructionBreakpointOnPage()
    {
        var linear = LinearRip;
        var dr7 = _dr[7];
        for (var n = 0; n < 4; n++)
            if (DebugControl.Type(dr7, n) == DebugControl.Execute && DebugControl.Enabled(dr7, n) && ((_dr[n] ^ linear) & ~0xFFFUL) == 0)
                return true;
        return false;
    }

    private ulong LinearRip => _bitness == 64 ? Rip : (uint)(_segCheck[(int)SegmentIndex.CS].Base + Rip);

    /// <summary>Blocking by MOV SS or POP SS, which holds debug exceptions until after the next instruction (SDM vol. 3, 6.8.3).</summary>
    private bool DebugExceptionsBlocked => _interruptShadow && _shadowByMovSs;

    /// <summary>
    /// The instruction-breakpoint fault before the instruction at CS:RIP executes (SDM vol. 3,
    /// 17.3.1.1), unless RF is set or MOV SS blocks debug exceptions; true when a #DB was delivered.
    /// The saved RF stays as it was: the handler sets it to resume past the breakpoint.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool InstructionBreakpointFault()
    {
        if ((_flags & Rflags.RF) != 0 || DebugExceptionsBlocked) return false;
        var status = MatchBreakpoints(LinearRip, 1, DebugControl.Execute, DebugControl.Execute);
        if ((status & BreakpointHit) == 0) return false;
        _pendingDebugStatus = status & DebugStatus.Breakpoints;
        RaiseFault(ExceptionVector.DB, 0);
        DeliverPendingException();
        _eventsPending = true;
        return true;
    }

    /// <summary>
    /// Reports the traps of the instruction that just completed as one #DB (SDM vol. 3, 17.3.1.2–17.3.1.5),
    /// with the B bits of instruction breakpoints at the next instruction merged in as Bochs does; held
    /// while MOV SS blocks, and dropped when only disabled breakpoints matched.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportDebugTraps()
    {
        if (_pendingVector >= 0 || DebugExceptionsBlocked) return;
        var status = _debugTrapStatus;
        _debugTrapStatus = 0;
        if ((status & DebugTrapReported) == 0)
        {
            // Between iterations of a REP string instruction (RF set by the iteration break), disabled
            // breakpoints' B bits stay for the rest of the instruction, as Bochs accumulates them.
            if ((_flags & Rflags.RF) != 0) _debugTrapStatus = status & DebugStatus.Breakpoints;
            return;
        }
        if ((_dr[7] & DebugControl.Enables) != 0 && (_flags & Rflags.RF) == 0)
            status |= MatchBreakpoints(LinearRip, 1, DebugControl.Execute, DebugControl.Execute);
        _pendingDebugStatus = status & DebugStatus.Writable;
        RaiseFault(ExceptionVector.DB, 0);
        DeliverPendingException();
        _eventsPending = true;
    }

    /// <summary>
    /// Whether an exception is a fault, whose saved EFLAGS image gets RF = 1 (SDM vol. 3, 17.3.1.1):
    /// all faults but the #DB of an instruction breakpoint; the general-detect #DB (BD) is a fault too.
    /// </summary>
    private bool SetsResumeFlag(int vector) =>
        vector is ExceptionVector.DE or ExceptionVector.BR or ExceptionVector.UD or ExceptionVector.NM or ExceptionVector.TS
            or ExceptionVector.NP or ExceptionVector.SS or ExceptionVector.GP or ExceptionVector.PF or ExceptionVector.MF
            or ExceptionVector.AC or ExceptionVector.XM or ExceptionVector.VE or ExceptionVector.CP
        || (vector == ExceptionVector.DB && (_pendingDebugStatus & DebugStatus.BD) != 0);
}
