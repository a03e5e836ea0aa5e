using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>The interpreter: running decoded blocks from the block cache within a cycle budget.</summary>
public sealed unsafe partial class Processor
{
    private const int LookupEntries = 4096;

    private struct LookupEntry
    {
        public ulong Linear;
        public DecodedBlock? Block;

        /// <summary>Whether the block was looked up at CPL 3: fetch rights (U/S, SMEP) differ between user and supervisor.</summary>
        public bool User;

        /// <summary>The TLB context (PCID and translation tag) the linear address was translated in.</summary>
        public ulong Context;
    }

    private readonly DecodedBlockCache _blocks;
    private readonly LookupEntry[] _lookup = new LookupEntry[LookupEntries];
    private int _bitness = 16;
    private bool _eventsPending;
    private bool _stopRequested;
    private StopReason _requestedStop = StopReason.StopRequested;
    private bool _stopBlock;

    /// <summary>Asks <see cref="Run"/> to return at the next instruction boundary with <see cref="StopReason.StopRequested"/>.</summary>
    public void RequestStop() => RequestStop(StopReason.StopRequested);

    private void RequestStop(StopReason reason)
    {
        // A VM exit is the more specific reason: a device's request in the same slice does not hide it.
        if (!_stopRequested || reason == StopReason.VmExit) _requestedStop = reason;
        _stopRequested = true;
        _eventsPending = true;
        _stopBlock = true;
    }

    /// <summary>
    /// Runs until this processor's clock reaches <paramref name="cycleLimit"/> (exactly: a block is
    /// cut short at the limit), it halts or shuts down, or a stop is requested. A halted processor
    /// that nothing wakes returns <see cref="StopReason.Halted"/> at once with its clock unchanged;
    /// the machine decides how time passes while it sleeps.
    /// </summary>
    public StopReason Run(ulong cycleLimit)
    {
        _stopRequested = false;
        _requestedStop = StopReason.StopRequested;
        _eventsPending = true;
        while (true)
        {
            if ((_eventsPending || Cycles >= _eventDeadline) && HandleEvents(out var stop))
            {
                // A halted processor still reaches its own deadline: the VMX-preemption timer counts down in HLT.
                if (stop == StopReason.Halted && _eventDeadline > Cycles && _eventDeadline <= cycleLimit)
                {
                    Cycles = _eventDeadline;
                    continue;
                }
                return stop;
            }
            if (Cycles >= cycleLimit) return StopReason.CycleLimit;
            // Instruction breakpoints come after interrupts and before the fetch's own faults (SDM vol. 3, table 6-2).
            if (_instructionBreakpointsArmed && InstructionBreakpointFault())
            {
                if (_singleStep) return StopReason.CycleLimit;
                continue;
            }

            var block = LookupBlock();
            if (block == null)
            {
                DeliverPendingException();
                _eventsPending = true;
                if (_singleStep) return StopReason.CycleLimit;
                continue;
            }
            var shadow = _interruptShadow;
            var debugFlags = _flags & (Rflags.TF | Rflags.RF);
            var trap = (debugFlags & Rflags.TF) != 0;
            var limit = _eventDeadline > Cycles && _eventDeadline < cycleLimit ? _eventDeadline : cycleLimit;
            var remaining = limit - Cycles;
            var budget = _singleStep || shadow || debugFlags != 0 || _watchEventWindows || (_instructionBreakpointsArmed && InstructionBreakpointOnPage())
                ? 1
                : remaining < (ulong)block.Count ? (int)remaining : block.Count;
            // RF is cleared once the instruction has passed its instruction-breakpoint check (SDM vol. 3, 17.3.1.1).
            if ((debugFlags & Rflags.RF) != 0) _flags &= ~Rflags.RF;
            if (_performanceCounting) budget = Math.Max(1, InstructionsUntilOverflow(budget));
            _shadowLoaded = false;
            if (block.SelfLoop && budget == block.Count && remaining > (ulong)budget && remaining < 1UL << 62 && !_performanceWatch)
            {
                // Each turn of JMP $ is one instruction and one cycle and nothing else happens before the next event: the turns up to it retire at once.
                InstructionsRetired += remaining;
                Cycles += remaining;
                continue;
            }
            var retired = ExecuteBlock(block, budget);
            if (shadow && !_shadowLoaded)
            {
                _interruptShadow = false;
                _shadowByMovSs = false;
                _eventsPending = true;
            }
            _shadowLoaded = false;
            if (trap && retired > 0 && _pendingVector < 0) _debugTrapStatus |= DebugStatus.BS;
            if (_debugTrapStatus != 0) ReportDebugTraps();
            if (_singleStep) return StopReason.CycleLimit;
        }
    }

    /// <summary>Runs exactly one instruction, or delivers one pending event; for steppers and tests.</summary>
    public StopReason Step()
    {
        _singleStep = true;
        try
        {
            return Run(ulong.MaxValue);
        }
        finally
        {
            _singleStep = false;
            _eventsPending = true;
        }
    }

    private bool _singleStep;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ExecuteBlock(DecodedBlock block, int budget)
    {
        ref var first = ref MemoryMarshal.GetArrayDataReference(block.Ops);
        _currentBlock = block;
        var startCycles = Cycles;
        var cpl = Cpl;
        _blockStartCycles = startCycles;
        _stopBlock = false;
        var i = 0;
        while (i < budget)
        {
            ref var op = ref Unsafe.Add(ref first, i);
            if (!op.Execute(this, ref op))
            {
                // An instruction that faults (or exits to a unit) met none of its trap conditions.
                _debugTrapStatus = 0;
                if (_pendingVector >= 0) DeliverPendingException();
                _eventsPending = true;
                break;
            }
            i++;
            if (_stopBlock) break;
        }
        InstructionsRetired += (ulong)i;
        Cycles = _blockStartCycles + (ulong)i;
        _currentBlock = null;
        if (_performanceWatch) FinishPerformanceBlock(block, i, startCycles, cpl);
        return i;
    }

    private DecodedBlock? _currentBlock;
    private ulong _blockStartCycles;

    /// <summary>
    /// Brings <see cref="Cycles"/> up to the instruction <paramref name="op"/> of the running block,
    /// so that a device reached by I/O sees the time of the access, not of the block's start.
    /// </summary>
    private void SyncClock(ref DecodedOp op)
    {
        var block = _currentBlock;
        if (block == null) return;
        ref var first = ref MemoryMarshal.GetArrayDataReference(block.Ops);
        var index = Unsafe.ByteOffset(ref first, ref op) / Unsafe.SizeOf<DecodedOp>();
        if ((ulong)index < (ulong)block.Count) Cycles = _blockStartCycles + (ulong)index;
    }

    /// <summary>Finds or decodes the block at CS:RIP. Null when the fetch faulted (the fault is pending).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private DecodedBlock? LookupBlock()
    {
        var linear = _bitness == 64 ? Rip : (uint)(_segCheck[(int)SegmentIndex.CS].Base + Rip);
        ref var e = ref _lookup[(int)(linear ^ (linear >> 12)) & (LookupEntries - 1)];
        var b = e.Block;
        var user = Cpl == 3;
        if (b != null && e.Linear == linear && e.User == user && e.Context == _tlbContext && b.Valid && b.Bitness == _bitness && WithinCodeLimit(b)
            && b.SecondPage == DecodedBlock.NoPage) return b;
        b = LookupBlockSlow(linear);
        if (b != null && b.Cacheable)
        {
            e.Linear = linear;
            e.Block = b;
            e.User = user;
            e.Context = _tlbContext;
        }
        return b;
    }

    private DecodedBlock? LookupBlockSlow(ulong linear)
    {
        if (_bitness != 64 && !CheckFetchLimit(Rip)) return null;
        if (_bitness == 64 && !IsCanonical(linear))
        {
            RaiseFault(ExceptionVector.GP, 0);
            return null;
        }
        if (!TranslateFetch(linear, out var physical)) return null;
        var block = _blocks.Find(physical, _bitness);
        if (block != null && WithinCodeLimit(block))
        {
            if (block.SecondPage == DecodedBlock.NoPage) return block;
            // An instruction continuing on the next page is valid while that page maps where it was decoded from.
            if (!TranslateNextCodePage(linear, out var secondPhysical)) return null;
            if (secondPhysical >> 12 == block.SecondPage) return block;
        }
        return Decode(linear, physical);
    }

    /// <summary>
    /// Whether all of a block's code lies inside the CS limit and below the IP wrap at the current
    /// RIP; else the block is decoded anew and stops where the limit cuts it (SDM vol. 3, 5.3).
    /// </summary>
    private bool WithinCodeLimit(DecodedBlock b) =>
        _bitness == 64 || (Rip + b.MaxReach <= _fetchLimit && Rip >= b.BackReach);

    private void ClearBlockLookup() => Array.Clear(_lookup);

    /// <summary>Drops every cached translation (TLB and block lookup); paging structures or mode changed.</summary>
    public void FlushTranslations()
    {
        Tlb.FlushAll();
        ClearBlockLookup();
        _stopBlock = true;
    }
}
