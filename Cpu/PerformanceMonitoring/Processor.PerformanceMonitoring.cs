using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>
/// Performance monitoring as CPUID announces it. Intel: architectural performance monitoring version 2
/// (SDM vol. 3, 18.2.1–18.2.2) with four general-purpose counters IA32_PMC0–3 and their
/// IA32_PERFEVTSEL0–3, three fixed counters (instructions retired, core cycles, reference cycles) under
/// IA32_FIXED_CTR_CTRL, and IA32_PERF_GLOBAL_CTRL/STATUS/OVF_CTRL. AMD: the four legacy counters
/// PerfEvtSel0–3/PerfCtr0–3 (APM vol. 2, 13.2). All counters are 48 bits wide and count, from the
/// simulation's own counts, instructions retired, unhalted cycles (core and reference cycles are the
/// same clock here) and branch instructions retired, at CPL 0 and/or above as the OS and USR bits say.
/// They are brought up to date when a block ends and before RDMSR, WRMSR and RDPMC, and a block never
/// runs past the instruction that makes a counter overflow, so counts are exact at every instruction
/// that reads them and an overflow's PMI through the local APIC's performance LVT comes right after
/// the instruction that overflowed. Edge detect, invert and the counter mask are stored, not applied.
/// </summary>
public sealed unsafe partial class Processor
{
    private const int GeneralCounterCount = 4;
    private const int FixedCounterCount = 3;
    private const int CounterWidth = 48;
    private const ulong CounterMask = (1UL << CounterWidth) - 1;

    private const ulong EventSelectUsr = 1UL << 16;
    private const ulong EventSelectOs = 1UL << 17;
    private const ulong EventSelectInt = 1UL << 20;
    private const ulong EventSelectEn = 1UL << 22;

    /// <summary>IA32_PERFEVTSELx in version 2: bits 31:0 except AnyThread (bit 21, version 3); the rest is reserved (#GP).</summary>
    private const ulong IntelEventSelectWritable = 0xFFDF_FFFFUL;

    /// <summary>IA32_FIXED_CTR_CTRL: OS (bit 0), USR (bit 1) and PMI (bit 3) of each fixed counter; AnyThread (bit 2) is version 3.</summary>
    private const ulong FixedControlWritable = 0xBBBUL;

    /// <summary>IA32_PERF_GLOBAL_CTRL and the overflow bits: PMC0–3 (bits 3:0) and FIXED_CTR0–2 (bits 34:32).</summary>
    private const ulong GlobalCounterBits = 0x7_0000_000FUL;

    /// <summary>IA32_PERF_GLOBAL_STATUS also has OvfBuffer (bit 62) and CondChgd (bit 63), which OVF_CTRL clears.</summary>
    private const ulong GlobalOverflowControlWritable = GlobalCounterBits | (3UL << 62);

    /// <summary>CPUID.0AH:EAX — version 2, four counters of 48 bits, an EBX vector of seven events.</summary>
    private const uint ArchitecturalPerformanceMonitoringLeaf =
        2 | (GeneralCounterCount << 8) | (CounterWidth << 16) | (7 << 24);

    /// <summary>CPUID.0AH:EBX — the events not available: LLC reference and miss, branch misses retired.</summary>
    private const uint UnavailableArchitecturalEvents = (1u << 3) | (1u << 4) | (1u << 6);

    /// <summary>CPUID.0AH:EDX — three fixed counters of 48 bits.</summary>
    private const uint FixedCounterLeaf = FixedCounterCount | (CounterWidth << 5);

    private readonly ulong[] _eventSelect = new ulong[GeneralCounterCount];
    private readonly ulong[] _counter = new ulong[GeneralCounterCount + FixedCounterCount];
    private ulong _fixedCounterControl;
    private ulong _globalControl;
    private ulong _globalStatus;

    private readonly PerformanceEvent[] _countedEvent = new PerformanceEvent[GeneralCounterCount + FixedCounterCount];

    /// <summary>Per counter: bit 0 counts at CPL 0, bit 1 above CPL 0.</summary>
    private readonly byte[] _countedRings = new byte[GeneralCounterCount + FixedCounterCount];
    private readonly bool[] _interruptOnOverflow = new bool[GeneralCounterCount + FixedCounterCount];
    private bool _performanceCounting;

    /// <summary>Counting is on, or an access to the PMU caught the counters up inside the running block: the block's end must look.</summary>
    private bool _performanceWatch;

    /// <summary>Of the running block, the instructions already counted (an RDMSR, WRMSR or RDPMC caught up), and the cycle they reached.</summary>
    private int _opsCounted;
    private ulong _cyclesCounted;

    /// <summary>Power-up state: counters and controls zero; IA32_PERF_GLOBAL_CTRL enables PMC0–3 (SDM vol. 4, table 2-2), so version-1 software that only sets EN counts. AMD has no global control, and the value is not used there.</summary>
    private void ResetPerformanceMonitoring()
    {
        Array.Clear(_eventSelect);
        Array.Clear(_counter);
        _fixedCounterControl = 0;
        _globalControl = (1UL << GeneralCounterCount) - 1;
        _globalStatus = 0;
        UpdatePerformanceCounting();
    }

    private bool TryReadPerformanceMsr(uint index, out ulong value)
    {
        value = 0;
        if (Vendor == CpuVendor.Amd)
        {
            switch (index)
            {
                case >= Msr.PerfEvtSel0 and < Msr.PerfEvtSel0 + GeneralCounterCount: value = _eventSelect[index - Msr.PerfEvtSel0]; return true;
                case >= Msr.PerfCtr0 and < Msr.PerfCtr0 + GeneralCounterCount: value = _counter[index - Msr.PerfCtr0]; return true;
                default: return false;
            }
        }
        switch (index)
        {
            case >= Msr.Ia32Pmc0 and < Msr.Ia32Pmc0 + GeneralCounterCount: value = _counter[index - Msr.Ia32Pmc0]; return true;
            case >= Msr.Ia32PerfEvtSel0 and < Msr.Ia32PerfEvtSel0 + GeneralCounterCount: value = _eventSelect[index - Msr.Ia32PerfEvtSel0]; return true;
            case >= Msr.Ia32FixedCtr0 and < Msr.Ia32FixedCtr0 + FixedCounterCount: value = _counter[GeneralCounterCount + index - Msr.Ia32FixedCtr0]; return true;
            case Msr.Ia32FixedCtrCtrl: value = _fixedCounterControl; return true;
            case Msr.Ia32PerfGlobalStatus: value = _globalStatus; return true;
            case Msr.Ia32PerfGlobalCtrl: value = _globalControl; return true;
            case Msr.Ia32PerfGlobalOvfCtrl: return true;
            default: return false;
        }
    }

    /// <summary>Null when the index is no performance-monitoring MSR; else whether the write was accepted (false: #GP).</summary>
    private bool? TryWritePerformanceMsr(uint index, ulong value)
    {
        if (Vendor == CpuVendor.Amd)
        {
            switch (index)
            {
                case >= Msr.PerfEvtSel0 and < Msr.PerfEvtSel0 + GeneralCounterCount:
                    if ((value & ~PerfEvtSelWritable) != 0) return false;
                    _eventSelect[index - Msr.PerfEvtSel0] = value;
                    break;
                case >= Msr.PerfCtr0 and < Msr.PerfCtr0 + GeneralCounterCount:
                    _counter[index - Msr.PerfCtr0] = value & CounterMask;
                    break;
                default: return null;
            }
            UpdatePerformanceCounting();
            // The next block's length depends on the counters (InstructionsUntilOverflow).
            _stopBlock = true;
            return true;
        }
        switch (index)
        {
            case >= Msr.Ia32Pmc0 and < Msr.Ia32Pmc0 + GeneralCounterCount:
                // Without full-width writes (IA32_PERF_CAPABILITIES.FW_WRITE) bits 31:0 are written and bit 31 is sign-extended (SDM vol. 3, 18.2.6).
                _counter[index - Msr.Ia32Pmc0] = (ulong)(long)(int)(uint)value & CounterMask;
                break;
            case >= Msr.Ia32PerfEvtSel0 and < Msr.Ia32PerfEvtSel0 + GeneralCounterCount:
                if ((value & ~IntelEventSelectWritable) != 0) return false;
                _eventSelect[index - Msr.Ia32PerfEvtSel0] = value;
                break;
            case >= Msr.Ia32FixedCtr0 and < Msr.Ia32FixedCtr0 + FixedCounterCount:
                if ((value & ~CounterMask) != 0) return false;
                _counter[GeneralCounterCount + index - Msr.Ia32FixedCtr0] = value;
                break;
            case Msr.Ia32FixedCtrCtrl:
                if ((value & ~FixedControlWritable) != 0) return false;
                _fixedCounterControl = value;
                break;
            case Msr.Ia32PerfGlobalStatus: return false;
            case Msr.Ia32PerfGlobalCtrl:
                if ((value & ~GlobalCounterBits) != 0) return false;
                _globalControl = value;
                break;
            case Msr.Ia32PerfGlobalOvfCtrl:
                if ((value & ~GlobalOverflowControlWritable) != 0) return false;
                _globalStatus &= ~value;
                break;
            default: return null;
        }
        UpdatePerformanceCounting();
        // The next block's length depends on the counters (InstructionsUntilOverflow).
        _stopBlock = true;
        return true;
    }

    /// <summary>Resolves each counter's event, rings and PMI once per control write, so that counting is a table walk.</summary>
    private void UpdatePerformanceCounting()
    {
        var intel = Vendor == CpuVendor.Intel;
        var any = false;
        for (var i = 0; i < GeneralCounterCount; i++)
        {
            var select = _eventSelect[i];
            var enabled = (select & EventSelectEn) != 0 && (!intel || (_globalControl & (1UL << i)) != 0);
            var rings = (byte)(((select & EventSelectOs) != 0 ? 1 : 0) | ((select & EventSelectUsr) != 0 ? 2 : 0));
            var e = enabled && rings != 0 ? (intel ? IntelEvent(select) : AmdEvent(select)) : PerformanceEvent.None;
            _countedEvent[i] = e;
            _countedRings[i] = rings;
            _interruptOnOverflow[i] = (select & EventSelectInt) != 0;
            any |= e != PerformanceEvent.None;
        }
        for (var j = 0; j < FixedCounterCount; j++)
        {
            var control = intel ? (_fixedCounterControl >> (4 * j)) & 0xF : 0;
            var enabled = (control & 3) != 0 && (_globalControl & (1UL << (32 + j))) != 0;
            var e = !enabled ? PerformanceEvent.None
                : j == 0 ? PerformanceEvent.InstructionsRetired : j == 1 ? PerformanceEvent.CoreCycles : PerformanceEvent.ReferenceCycles;
            _countedEvent[GeneralCounterCount + j] = e;
            _countedRings[GeneralCounterCount + j] = (byte)(control & 3);
            _interruptOnOverflow[GeneralCounterCount + j] = (control & 8) != 0;
            any |= e != PerformanceEvent.None;
        }
        _performanceCounting = any;
        _performanceWatch |= any;
    }

    /// <summary>
    /// Before an instruction reads or writes the PMU: counts the running block's instructions before it
    /// under the configuration they ran with, so that counts are exact at instruction boundaries. The
    /// accessing instruction itself retires after the access and counts under the new configuration.
    /// </summary>
    private void CatchUpPerformanceCounters(ref DecodedOp op)
    {
        if (_currentBlock is not { } block) return;
        ref var first = ref MemoryMarshal.GetArrayDataReference(block.Ops);
        var index = (int)(Unsafe.ByteOffset(ref first, ref op) / Unsafe.SizeOf<DecodedOp>());
        if ((uint)index >= (uint)block.Count) return;
        var cycles = _blockStartCycles + (ulong)index;
        if (_performanceCounting) CountPerformanceEvents(block, _opsCounted, index, cycles - (_opsCounted != 0 ? _cyclesCounted : _blockStartCycles), Cpl);
        _opsCounted = index;
        _cyclesCounted = cycles;
        _performanceWatch = true;
    }

    /// <summary>At a block's end: counts what the block retired since the last catch-up.</summary>
    private void FinishPerformanceBlock(DecodedBlock block, int retired, ulong startCycles, int cpl)
    {
        if (_performanceCounting && retired > _opsCounted)
            CountPerformanceEvents(block, _opsCounted, retired, Cycles - (_opsCounted != 0 ? _cyclesCounted : startCycles), cpl);
        _opsCounted = 0;
        _performanceWatch = _performanceCounting;
    }

    /// <summary>The architectural events by event select and unit mask (SDM vol. 3, table 18-1).</summary>
    private static PerformanceEvent IntelEvent(ulong select) => (select & 0xFFFF) switch
    {
        0x00C0 => PerformanceEvent.InstructionsRetired,
        0x003C => PerformanceEvent.CoreCycles,
        0x013C => PerformanceEvent.ReferenceCycles,
        0x00C4 => PerformanceEvent.BranchInstructionsRetired,
        _ => PerformanceEvent.None,
    };

    /// <summary>AMD's core events by EventSelect[11:0]: 076h cycles not halted, 0C0h retired instructions, 0C2h retired branch instructions.</summary>
    private static PerformanceEvent AmdEvent(ulong select) => ((select & 0xFF) | ((select >> 24) & 0xF00)) switch
    {
        0x076 => PerformanceEvent.CoreCycles,
        0x0C0 => PerformanceEvent.InstructionsRetired,
        0x0C2 => PerformanceEvent.BranchInstructionsRetired,
        _ => PerformanceEvent.None,
    };

    /// <summary>
    /// The most instructions the next block may run so that no counter passes its overflow inside it:
    /// every counted event happens at most once per instruction, cycles at least once.
    /// </summary>
    private int InstructionsUntilOverflow(int budget)
    {
        for (var k = 0; k < _countedEvent.Length; k++)
        {
            if (_countedEvent[k] == PerformanceEvent.None) continue;
            var left = CounterMask + 1 - _counter[k];
            if (left < (ulong)budget) budget = (int)left;
        }
        return budget;
    }

    /// <summary>Adds what a block's instructions <paramref name="from"/> to <paramref name="to"/> did at <paramref name="cpl"/> in <paramref name="cycles"/> to the counters that count it.</summary>
    private void CountPerformanceEvents(DecodedBlock block, int from, int to, ulong cycles, int cpl)
    {
        var ring = cpl == 0 ? 1 : 2;
        var branches = -1;
        for (var k = 0; k < _countedEvent.Length; k++)
        {
            var e = _countedEvent[k];
            if (e == PerformanceEvent.None || (_countedRings[k] & ring) == 0) continue;
            ulong n;
            if (e == PerformanceEvent.InstructionsRetired) n = (ulong)(to - from);
            else if (e == PerformanceEvent.BranchInstructionsRetired)
            {
                if (branches < 0) branches = BranchesIn(block, from, to);
                n = (ulong)branches;
            }
            else n = cycles;
            if (n == 0) continue;
            var v = _counter[k] + n;
            _counter[k] = v & CounterMask;
            if (v > CounterMask) CounterOverflowed(k);
        }
    }

    private void CounterOverflowed(int k)
    {
        if (Vendor == CpuVendor.Intel) _globalStatus |= k < GeneralCounterCount ? 1UL << k : 1UL << (32 + k - GeneralCounterCount);
        if (_interruptOnOverflow[k]) _localApic?.PerformanceCounterOverflow();
    }

    private static int BranchesIn(DecodedBlock block, int from, int to)
    {
        var n = 0;
        for (var i = from; i < to; i++)
            if (IsBranch(block.Ops[i].Handler)) n++;
        return n;
    }

    /// <summary>The control transfers that retire as branch instructions: near and far JMP, Jcc, CALL, RET, LOOP/JCXZ, INT n, IRET, SYSCALL/SYSRET, SYSENTER/SYSEXIT.</summary>
    private static bool IsBranch(Handler h) => h is Handler.Jcc or Handler.JmpRel or Handler.CallRel or Handler.Ret
        or Handler.JmpR or Handler.JmpM or Handler.CallR or Handler.CallM or Handler.Loop or Handler.JmpFar or Handler.JmpFarM
        or Handler.CallFar or Handler.CallFarM or Handler.RetFar or Handler.Iret or Handler.Int or Handler.Int3 or Handler.Into
        or Handler.Int1 or Handler.Syscall or Handler.Sysret or Handler.Sysenter or Handler.Sysexit;

    /// <summary>
    /// RDPMC: ECX[30] selects the fixed counters, ECX[29:0] the counter; at CPL &gt; 0 it needs CR4.PCE; an
    /// index beyond the counters raises #GP (SDM vol. 2, RDPMC; APM vol. 3, RDPMC).
    /// </summary>
    private bool ReadPerformanceMonitoringCounter(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.Rdpmc) { Counter = (uint)_r[1] })) return _hookRetired;
        CatchUpPerformanceCounters(ref op);
        if (Cpl != 0 && (Cr4 & Registers.Cr4.PCE) == 0) return RaiseFault(ExceptionVector.GP, 0);
        var index = (uint)_r[1];
        int k;
        if (Vendor == CpuVendor.Intel && (index & (1u << 30)) != 0) k = (index & ~(1u << 30)) < FixedCounterCount ? GeneralCounterCount + (int)(index & 0x3FFFFFFF) : -1;
        else k = index < GeneralCounterCount ? (int)index : -1;
        if (k < 0) return RaiseFault(ExceptionVector.GP, 0);
        SetEdxEax(_counter[k]);
        return Next(ref op);
    }
}
