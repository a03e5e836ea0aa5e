using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>
/// What a virtualization unit needs from the processor beyond the architectural registers: the
/// instruction behind an intercept and its operands, completing an instruction the unit
/// emulated, event injection, interruptibility, event windows and deadlines, second-level
/// translation and tagged translations.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>The pseudo-vector of a refused second-level translation while it travels like a fault.</summary>
    internal const int SecondLevelFaultVector = 0x100;

    /// <summary>Index in the running block of the instruction whose intercept is being handled, or -1.</summary>
    private int _hookOp = -1;
    private bool _instructionRetired;

    /// <summary>What a handler returns after its intercept was handled: whether the unit completed the instruction.</summary>
    private bool _hookRetired;

    /// <summary>Calls the unit for an instruction's intercept; true when the unit handled it (the handler then returns <see cref="_hookRetired"/>).</summary>
    private bool Intercepted(ref DecodedOp op, InterceptKind kind)
    {
        var intercept = new Intercept(kind);
        return Intercepted(ref op, ref intercept);
    }

    private bool Intercepted(ref DecodedOp op, Intercept intercept) => Intercepted(ref op, ref intercept);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Intercepted(ref DecodedOp op, ref Intercept intercept)
    {
        var saved = _hookOp;
        _hookOp = OpIndex(ref op);
        _instructionRetired = false;
        intercept.Instruction = InstructionAt(_hookOp);
        intercept.EventInDelivery = _hasEventInDelivery ? _eventInDelivery : null;
        var handled = Hooks!.Intercept(this, ref intercept);
        _hookOp = saved;
        _hookRetired = handled && _instructionRetired;
        _instructionRetired = false;
        if (handled)
        {
            _stopBlock = true;
            _eventsPending = true;
        }
        return handled;
    }

    private int OpIndex(ref DecodedOp op)
    {
        var block = _currentBlock;
        if (block == null) return -1;
        ref var first = ref MemoryMarshal.GetArrayDataReference(block.Ops);
        var index = Unsafe.ByteOffset(ref first, ref op) / Unsafe.SizeOf<DecodedOp>();
        return (ulong)index < (ulong)block.Ops.Length ? (int)index : -1;
    }

    /// <summary>Offers the unit an event that no instruction's handler raises: an exception being delivered, an interrupt, INIT, a task switch.</summary>
    private bool Offer(Intercept intercept)
    {
        intercept.EventInDelivery = _hasEventInDelivery ? _eventInDelivery : null;
        return Hooks!.Intercept(this, ref intercept);
    }

    /// <summary>The instruction at <paramref name="index"/> of the running block, as the unit sees it; default (length 0) for none.</summary>
    private InterceptedInstruction InstructionAt(int index)
    {
        {
            var block = _currentBlock;
            if (index < 0 || block == null) return default;
            ref var op = ref block.Ops[index];
            var memory = (op.Flags & OpFlags.Memory) != 0;
            var baseReg = !memory || op.Base == DecodedOp.NoRegister ? -1 : op.Base == DecodedOp.RipRegister ? -2 : op.Base;
            var indexReg = !memory || op.IndexReg == DecodedOp.NoRegister ? -1 : op.IndexReg;
            return new InterceptedInstruction(block.Codes[index], op.Length, op.Size, 64 - op.AddressShift, memory,
                (SegmentIndex)op.Segment, baseReg, indexReg, 1 << op.Scale, op.Displacement,
                op.R == DecodedOp.NoRegister ? -1 : op.R, memory || op.Rm == DecodedOp.NoRegister ? -1 : op.Rm,
                (op.Flags & (OpFlags.Rep | OpFlags.Repne)) != 0, op.Immediate);
        }
    }

    private ref DecodedOp HookOp => ref _currentBlock!.Ops[_hookOp];

    /// <summary>The effective address (offset within its segment) of the current instruction's memory operand.</summary>
    public ulong OperandOffset() => _hookOp < 0 ? 0 : EffectiveAddress(ref HookOp);

    /// <summary>The linear address of the current instruction's memory operand (segment base plus offset, in the current mode).</summary>
    public ulong OperandLinearAddress()
    {
        if (_hookOp < 0) return 0;
        ref var op = ref HookOp;
        var ea = EffectiveAddress(ref op);
        if (_bitness == 64) return (op.Segment >= (int)SegmentIndex.FS ? _segCheck[op.Segment].Base : 0) + ea;
        return (uint)(_segCheck[op.Segment].Base + ea);
    }

    /// <summary>
    /// Reads <paramref name="size"/> bytes of the current instruction's memory operand with the
    /// segmentation and paging checks of an ordinary access. False when that raised a fault; the
    /// unit then returns true from the intercept without completing, and the fault is delivered.
    /// </summary>
    public bool ReadOperand(int size, out ulong value)
    {
        value = 0;
        if (_hookOp < 0) return false;
        ref var op = ref HookOp;
        return ReadMem(op.Segment, EffectiveAddress(ref op), size, out value);
    }

    /// <summary>
    /// Reads <paramref name="size"/> bytes <paramref name="offset"/> bytes past the start of the current
    /// instruction's memory operand (the upper half of a 128-bit INVEPT, INVVPID or INVPCID descriptor).
    /// </summary>
    public bool ReadOperand(ulong offset, int size, out ulong value)
    {
        value = 0;
        if (_hookOp < 0) return false;
        ref var op = ref HookOp;
        return ReadMem(op.Segment, (EffectiveAddress(ref op) + offset) & (ulong.MaxValue >> op.AddressShift), size, out value);
    }

    /// <summary>Writes the current instruction's memory operand; false when that raised a fault (see <see cref="ReadOperand"/>).</summary>
    public bool WriteOperand(int size, ulong value)
    {
        if (_hookOp < 0) return false;
        ref var op = ref HookOp;
        return WriteMem(op.Segment, EffectiveAddress(ref op), size, value);
    }

    /// <summary>Raises an exception as the current instruction's fault (delivered when the intercept returns).</summary>
    public void RaiseException(int vector, uint errorCode = 0) => RaiseFault(vector, errorCode);

    /// <summary>The unit emulated the intercepted instruction: RIP moves past it and it counts as retired.</summary>
    public void CompleteInstruction()
    {
        if (_hookOp >= 0) Rip = (Rip + HookOp.Length) & _ripMask;
        _instructionRetired = true;
        _stopBlock = true;
    }

    /// <summary>The intercepted instruction counts as retired, with RIP left as the unit set it (VMLAUNCH, VMRUN).</summary>
    public void RetireInstruction()
    {
        _instructionRetired = true;
        _stopBlock = true;
    }

    /// <summary>
    /// The clock at the instruction whose intercept is being handled (<see cref="Cycles"/> is only
    /// brought up to date at block ends); <see cref="Cycles"/> outside an intercept.
    /// </summary>
    public ulong CurrentCycle => _hookOp >= 0 && _currentBlock != null ? _blockStartCycles + (ulong)_hookOp : Cycles;

    /// <summary>Charges <paramref name="cycles"/> to this processor's clock (a VM exit's or entry's cost), also from inside a block.</summary>
    public void AddCycles(ulong cycles)
    {
        if (_currentBlock != null) _blockStartCycles += cycles;
        else Cycles += cycles;
    }

    /// <summary>Blocking by STI: maskable interrupts wait for the next instruction to complete.</summary>
    public bool BlockingBySti => _interruptShadow && !_shadowByMovSs;

    /// <summary>Blocking by MOV SS or POP SS.</summary>
    public bool BlockingByMovSs => _interruptShadow && _shadowByMovSs;

    private bool _shadowByMovSs;
    private bool _shadowLoaded;

    /// <summary>Loads the interruptibility state (VM entry, #VMEXIT).</summary>
    public void SetInterruptShadow(bool bySti, bool byMovSs)
    {
        _interruptShadow = bySti || byMovSs;
        _shadowByMovSs = byMovSs;
        _shadowLoaded = true;
        _eventsPending = true;
        _stopBlock = true;
    }

    /// <summary>Blocking by NMI: set from NMI delivery until the next IRET.</summary>
    public bool NmiBlocked
    {
        get => _nmiBlocked;
        set
        {
            _nmiBlocked = value;
            _eventsPending = true;
        }
    }

    /// <summary>An NMI is latched and waits for delivery.</summary>
    public bool NmiPending
    {
        get => _nmiPending;
        set
        {
            _nmiPending = value;
            _eventsPending = true;
        }
    }

    private bool _interruptFlagIgnored;

    /// <summary>
    /// INTR is offered to the unit (<see cref="InterceptKind.ExternalInterrupt"/>) whatever RFLAGS.IF
    /// says: VMX external-interrupt exiting, SVM INTR intercept with V_INTR_MASKING. Without the
    /// unit taking it, IF still decides delivery.
    /// </summary>
    public bool InterruptFlagIgnored
    {
        get => _interruptFlagIgnored;
        set
        {
            _interruptFlagIgnored = value;
            _eventsPending = true;
        }
    }

    private bool _globalInterruptFlag = true;

    /// <summary>SVM's global interrupt flag: while clear, NMI and INTR are held pending.</summary>
    public bool GlobalInterruptFlag
    {
        get => _globalInterruptFlag;
        set
        {
            _globalInterruptFlag = value;
            _eventsPending = true;
        }
    }

    private bool _watchEventWindows;

    /// <summary>While set, every instruction boundary calls <see cref="InterceptKind.EventWindow"/>.</summary>
    public bool WatchEventWindows
    {
        get => _watchEventWindows;
        set
        {
            _watchEventWindows = value;
            _eventsPending = true;
            _stopBlock = true;
        }
    }

    private ulong _eventDeadline = ulong.MaxValue;

    /// <summary>The cycle at which <see cref="InterceptKind.EventWindow"/> is called (the VMX-preemption timer); ulong.MaxValue for none.</summary>
    public ulong EventDeadline
    {
        get => _eventDeadline;
        set
        {
            _eventDeadline = value;
            _eventsPending = true;
            _stopBlock = true;
        }
    }

    private DeliveredEvent _eventInDelivery;
    private bool _hasEventInDelivery;

    /// <summary>The linear address of the pending #PF (written to CR2 only when the #PF is delivered).</summary>
    private ulong _faultAddress;

    /// <summary>
    /// Delivers an event through the guest's IDT now, as VM entry injects it: the double- and
    /// triple-fault rules apply, and exceptions during delivery reach the unit with
    /// <see cref="Intercept.EventInDelivery"/> set. CR2 is left alone.
    /// </summary>
    public void InjectEvent(int vector, EventType type, uint errorCode, bool hasErrorCode, int instructionLength)
    {
        var kind = type switch
        {
            EventType.ExternalInterrupt => EventKind.External,
            EventType.Nmi => EventKind.Nmi,
            EventType.HardwareException => EventKind.Exception,
            EventType.PrivilegedSoftwareException => EventKind.PrivilegedSoftware,
            _ => EventKind.Software,
        };
        if (type == EventType.Nmi) _nmiBlocked = true;
        if (Activity == ActivityState.Hlt) Activity = ActivityState.Active;
        _softwareIntLength = instructionLength;
        _softwareEventType = type == EventType.SoftwareException ? EventType.SoftwareException : EventType.SoftwareInterrupt;
        _injecting = true;
        DeliverEvent(vector, kind, errorCode, hasErrorCode);
        _injecting = false;
        _softwareIntLength = 0;
        _softwareEventType = EventType.SoftwareInterrupt;
        _eventsPending = true;
        _stopBlock = true;
    }

    private bool _injecting;
    private IGuestPhysicalTranslator? _secondLevel;

    /// <summary>Second-level translation (EPT, nested paging); null when guest-physical is host-physical.</summary>
    public IGuestPhysicalTranslator? SecondLevel
    {
        get => _secondLevel;
        set
        {
            _secondLevel = value;
            _stopBlock = true;
        }
    }

    /// <summary>The largest translation tag: tags live in bits 62:48 of a TLB tag.</summary>
    public const int MaxTranslationTag = 0x7FFF;
    private int _translationTag;

    /// <summary>
    /// Which address space the TLB and the block lookup serve now: 0 for the host, another value
    /// per (VPID, EPTP) or ASID as the unit assigns them. Switching tags keeps every tag's entries.
    /// </summary>
    public int TranslationTag
    {
        get => _translationTag;
        set
        {
            if ((uint)value > MaxTranslationTag) throw new ArgumentOutOfRangeException(nameof(value));
            _translationTag = value;
            UpdateTlbContext();
            _stopBlock = true;
        }
    }

    /// <summary>Drops every cached translation of one tag (INVVPID single-context, INVEPT, flush by ASID).</summary>
    public void FlushTranslationTag(int tag)
    {
        Tlb.FlushTag((ulong)tag);
        ClearBlockLookup();
        _stopBlock = true;
    }

    /// <summary>Drops the cached translations of one linear page in every tag (INVLPGA, INVVPID individual address).</summary>
    public void FlushTranslationPage(ulong linear)
    {
        Tlb.FlushPage(linear);
        ClearBlockLookup();
        _stopBlock = true;
    }

    /// <summary>Loads the four PDPTE registers as given (VM entry with EPT and PAE paging).</summary>
    public void LoadPdptes(ulong pdpte0, ulong pdpte1, ulong pdpte2, ulong pdpte3)
    {
        _pdpte[0] = pdpte0;
        _pdpte[1] = pdpte1;
        _pdpte[2] = pdpte2;
        _pdpte[3] = pdpte3;
        Tlb.FlushTag((ulong)_translationTag);
        ClearBlockLookup();
        _stopBlock = true;
    }
}
