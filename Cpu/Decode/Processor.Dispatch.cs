using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>From a decoded operation to the function that executes it: the frequent handlers specialised by size, ALU operation and condition, and the dispatch of the rest to their instruction group.</summary>
public sealed unsafe partial class Processor
{
    private struct Size1 : IOperandSize { public static int Bytes => 1; }

    private struct Size2 : IOperandSize { public static int Bytes => 2; }

    private struct Size4 : IOperandSize { public static int Bytes => 4; }

    private struct Size8 : IOperandSize { public static int Bytes => 8; }

    private static int SizeIndex(int bytes) => bytes switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 };

    /// <summary>
    /// The function that executes an operation. The frequent ones have small functions of their own,
    /// specialised by operand size (and ALU operation or condition), so each call sets up only the
    /// frame it needs and takes no size branches; the rest go through the switches of <see cref="ExecuteRare"/>.
    /// </summary>
    private static delegate*<Processor, ref DecodedOp, bool> OperationFor(in DecodedOp op)
    {
        var size = SizeIndex(op.Size);
        return op.Handler switch
        {
            Handler.AluRR => AluOperations[0][size][op.Sub],
            Handler.AluRI => AluOperations[1][size][op.Sub],
            Handler.AluRM => AluOperations[2][size][op.Sub],
            Handler.Jcc => JccOperations[op.Sub],
            Handler.Sse or Handler.Mmx or Handler.SimdState or Handler.Avx => SimdOperations[op.Imm16].Execute,
            Handler.BitManipulation => BitManipulationOperations[op.Sub],
            _ => SizedOperations[(int)op.Handler] is { } sized ? sized[size] : &Rare,
        };
    }

    private static bool Rare(Processor p, ref DecodedOp op) => p.ExecuteRare(ref op);

    private static delegate*<Processor, ref DecodedOp, bool>[] BySize(
        delegate*<Processor, ref DecodedOp, bool> size1, delegate*<Processor, ref DecodedOp, bool> size2,
        delegate*<Processor, ref DecodedOp, bool> size4, delegate*<Processor, ref DecodedOp, bool> size8) =>
        [size1, size2, size4, size8];

    private static readonly delegate*<Processor, ref DecodedOp, bool>[]?[] SizedOperations = CreateSizedOperations();

    private static delegate*<Processor, ref DecodedOp, bool>[]?[] CreateSizedOperations()
    {
        var t = new delegate*<Processor, ref DecodedOp, bool>[]?[Enum.GetValues<Handler>().Length];
        t[(int)Handler.MovRR] = BySize(&MovRR<Size1>, &MovRR<Size2>, &MovRR<Size4>, &MovRR<Size8>);
        t[(int)Handler.MovRM] = BySize(&MovRM<Size1>, &MovRM<Size2>, &MovRM<Size4>, &MovRM<Size8>);
        t[(int)Handler.MovMR] = BySize(&MovMR<Size1>, &MovMR<Size2>, &MovMR<Size4>, &MovMR<Size8>);
        t[(int)Handler.MovRI] = BySize(&MovRI<Size1>, &MovRI<Size2>, &MovRI<Size4>, &MovRI<Size8>);
        t[(int)Handler.MovMI] = BySize(&MovMI<Size1>, &MovMI<Size2>, &MovMI<Size4>, &MovMI<Size8>);
        t[(int)Handler.AluMR] = BySize(&AluMR<Size1>, &AluMR<Size2>, &AluMR<Size4>, &AluMR<Size8>);
        t[(int)Handler.AluMI] = BySize(&AluMI<Size1>, &AluMI<Size2>, &AluMI<Size4>, &AluMI<Size8>);
        t[(int)Handler.TestRR] = BySize(&TestRR<Size1>, &TestRR<Size2>, &TestRR<Size4>, &TestRR<Size8>);
        t[(int)Handler.TestRI] = BySize(&TestRI<Size1>, &TestRI<Size2>, &TestRI<Size4>, &TestRI<Size8>);
        t[(int)Handler.TestMR] = BySize(&TestMR<Size1>, &TestMR<Size2>, &TestMR<Size4>, &TestMR<Size8>);
        t[(int)Handler.TestMI] = BySize(&TestMI<Size1>, &TestMI<Size2>, &TestMI<Size4>, &TestMI<Size8>);
        t[(int)Handler.Lea] = BySize(&Lea<Size2>, &Lea<Size2>, &Lea<Size4>, &Lea<Size8>);
        t[(int)Handler.PushR] = BySize(&PushR<Size2>, &PushR<Size2>, &PushR<Size4>, &PushR<Size8>);
        t[(int)Handler.PopR] = BySize(&PopR<Size2>, &PopR<Size2>, &PopR<Size4>, &PopR<Size8>);
        t[(int)Handler.UnaryR] = BySize(&UnaryR<Size1>, &UnaryR<Size2>, &UnaryR<Size4>, &UnaryR<Size8>);
        t[(int)Handler.CallRel] = BySize(&CallRel<Size2>, &CallRel<Size2>, &CallRel<Size4>, &CallRel<Size8>);
        t[(int)Handler.Ret] = BySize(&Ret<Size2>, &Ret<Size2>, &Ret<Size4>, &Ret<Size8>);
        t[(int)Handler.JmpRel] = BySize(&JmpRel<Size2>, &JmpRel<Size2>, &JmpRel<Size4>, &JmpRel<Size8>);
        t[(int)Handler.MovzxRR] = BySize(&MovzxRR<Size2>, &MovzxRR<Size2>, &MovzxRR<Size4>, &MovzxRR<Size8>);
        t[(int)Handler.MovzxRM] = BySize(&MovzxRM<Size2>, &MovzxRM<Size2>, &MovzxRM<Size4>, &MovzxRM<Size8>);
        t[(int)Handler.MovsxRR] = BySize(&MovsxRR<Size2>, &MovsxRR<Size2>, &MovsxRR<Size4>, &MovsxRR<Size8>);
        t[(int)Handler.MovsxRM] = BySize(&MovsxRM<Size2>, &MovsxRM<Size2>, &MovsxRM<Size4>, &MovsxRM<Size8>);
        t[(int)Handler.CmovRR] = BySize(&CmovRR<Size2>, &CmovRR<Size2>, &CmovRR<Size4>, &CmovRR<Size8>);
        var nop = BySize(&Nop, &Nop, &Nop, &Nop);
        t[(int)Handler.Nop] = nop;
        var setcc = BySize(&SetccR, &SetccR, &SetccR, &SetccR);
        t[(int)Handler.SetccR] = setcc;
        t[(int)Handler.X87Transfer] = BySize(&X87Transfer, &X87Transfer, &X87Transfer, &X87Transfer);
        t[(int)Handler.X87Arithmetic] = BySize(&X87Arithmetic, &X87Arithmetic, &X87Arithmetic, &X87Arithmetic);
        return t;
    }

    private static readonly delegate*<Processor, ref DecodedOp, bool>[] JccTakenOperations =
    [
        &JccTaken<ConditionO>, &JccTaken<ConditionNO>, &JccTaken<ConditionB>, &JccTaken<ConditionAE>,
        &JccTaken<ConditionE>, &JccTaken<ConditionNE>, &JccTaken<ConditionBE>, &JccTaken<ConditionA>,
        &JccTaken<ConditionS>, &JccTaken<ConditionNS>, &JccTaken<ConditionP>, &JccTaken<ConditionNP>,
        &JccTaken<ConditionL>, &JccTaken<ConditionGE>, &JccTaken<ConditionLE>, &JccTaken<ConditionG>,
    ];

    private static readonly delegate*<Processor, ref DecodedOp, bool>[] JccOperations =
    [
        &Jcc<ConditionO>, &Jcc<ConditionNO>, &Jcc<ConditionB>, &Jcc<ConditionAE>,
        &Jcc<ConditionE>, &Jcc<ConditionNE>, &Jcc<ConditionBE>, &Jcc<ConditionA>,
        &Jcc<ConditionS>, &Jcc<ConditionNS>, &Jcc<ConditionP>, &Jcc<ConditionNP>,
        &Jcc<ConditionL>, &Jcc<ConditionGE>, &Jcc<ConditionLE>, &Jcc<ConditionG>,
    ];

    /// <summary>The ALU handlers of one form and size, indexed by the ALU kind (ADD, OR, ADC, SBB, AND, SUB, XOR, CMP).</summary>
    private static delegate*<Processor, ref DecodedOp, bool>[] AluRR<TSize>() where TSize : struct, IOperandSize =>
    [
        &AluRR<AddOperation, TSize>, &AluRR<OrOperation, TSize>, &AluRR<AdcOperation, TSize>, &AluRR<SbbOperation, TSize>,
        &AluRR<AndOperation, TSize>, &AluRR<SubOperation, TSize>, &AluRR<XorOperation, TSize>, &AluRR<CmpOperation, TSize>,
    ];

    private static delegate*<Processor, ref DecodedOp, bool>[] AluRI<TSize>() where TSize : struct, IOperandSize =>
    [
        &AluRI<AddOperation, TSize>, &AluRI<OrOperation, TSize>, &AluRI<AdcOperation, TSize>, &AluRI<SbbOperation, TSize>,
        &AluRI<AndOperation, TSize>, &AluRI<SubOperation, TSize>, &AluRI<XorOperation, TSize>, &AluRI<CmpOperation, TSize>,
    ];

    private static delegate*<Processor, ref DecodedOp, bool>[] AluRM<TSize>() where TSize : struct, IOperandSize =>
    [
        &AluRM<AddOperation, TSize>, &AluRM<OrOperation, TSize>, &AluRM<AdcOperation, TSize>, &AluRM<SbbOperation, TSize>,
        &AluRM<AndOperation, TSize>, &AluRM<SubOperation, TSize>, &AluRM<XorOperation, TSize>, &AluRM<CmpOperation, TSize>,
    ];

    /// <summary>ALU handlers by form (RR, RI, RM), operand size (1, 2, 4, 8) and kind.</summary>
    private static readonly delegate*<Processor, ref DecodedOp, bool>[][][] AluOperations =
    [
        [AluRR<Size1>(), AluRR<Size2>(), AluRR<Size4>(), AluRR<Size8>()],
        [AluRI<Size1>(), AluRI<Size2>(), AluRI<Size4>(), AluRI<Size8>()],
        [AluRM<Size1>(), AluRM<Size2>(), AluRM<Size4>(), AluRM<Size8>()],
    ];

    /// <summary>The less frequent operations, each implemented in the file of its SDM instruction group.</summary>
    private bool ExecuteRare(ref DecodedOp op)
    {
        switch (op.Handler)
        {
            case Handler.Ud: return RaiseFault(ExceptionVector.UD, 0);
            case Handler.FpuSse: return FpuUnavailable(ref op);
            case Handler.XchgRR: return ExchangeRegisters(ref op);
            case Handler.XchgRM: return ExchangeMemory(ref op);
            case Handler.PushI: return PushOp(ref op, op.Immediate);
            case Handler.PushM: return PushMemory(ref op);
            case Handler.PopM: return PopMemory(ref op);
            case Handler.PushSeg: return PushOp(ref op, _seg[op.Sub].Selector);
            case Handler.PopSeg: return PopSegment(ref op);
            case Handler.MovRSeg: return StoreSegmentToRegister(ref op);
            case Handler.MovMSeg: return StoreSegmentToMemory(ref op);
            case Handler.MovSegR: return MoveToSegment(ref op, (ushort)GetReg(op.Rm, 2));
            case Handler.MovSegM: return LoadSegmentFromMemory(ref op);
            case Handler.ConvertA: return ConvertToWider(ref op);
            case Handler.ConvertD: return ConvertToDoubleWidth(ref op);
            case Handler.Bswap: return ByteSwapRegister(ref op);
            case Handler.MovbeRM: return MoveBigEndianLoad(ref op);
            case Handler.MovbeMR: return MoveBigEndianStore(ref op);
            case Handler.Salc: return SetAlFromCarry(ref op);
            case Handler.Lahf: return LoadStatusFlagsIntoAh(ref op);
            case Handler.Sahf: return StoreAhIntoFlags(ref op);
            case Handler.Pushf: return PushFlags(ref op);
            case Handler.Popf: return PopFlags(ref op);
            case Handler.Cmc: return ComplementCarry(ref op);
            case Handler.Clc: return ClearCarry(ref op);
            case Handler.Stc: return SetCarry(ref op);
            case Handler.Cld: return ClearDirection(ref op);
            case Handler.Std: return SetDirection(ref op);
            case Handler.Cli: return Cli(ref op);
            case Handler.Sti: return Sti(ref op);
            case Handler.Clac or Handler.Stac: return SetAlignmentCheck(ref op);
            case Handler.Xlat: return TableLookupTranslation(ref op);
            case Handler.LoadFarPointer: return LoadFarPointer(ref op);
            case Handler.Enter: return Enter(ref op);
            case Handler.Leave: return Leave(ref op);
            case Handler.Pusha: return Pusha(ref op);
            case Handler.Popa: return Popa(ref op);
            case Handler.UnaryM: return UnaryMemory(ref op);
            case Handler.ShiftR: return ShiftRegister(ref op);
            case Handler.ShiftM: return ShiftMemory(ref op);
            case Handler.ShiftDoubleR: return ShiftDoubleRegister(ref op);
            case Handler.ShiftDoubleM: return ShiftDoubleMemory(ref op);
            case Handler.MulDivR: return MulDiv(ref op, GetReg(op.Rm, op.Size));
            case Handler.MulDivM: return MulDivMemory(ref op);
            case Handler.Imul2R: return SignedMultiplyRegister(ref op);
            case Handler.Imul2M: return SignedMultiplyMemory(ref op);
            case Handler.Imul3R: return SignedMultiplyImmediateRegister(ref op);
            case Handler.Imul3M: return SignedMultiplyImmediateMemory(ref op);
            case Handler.BitR: return BitTestRegister(ref op);
            case Handler.BitM: return BitTestMemory(ref op);
            case Handler.BitScanR: return BitScan(ref op, GetReg(op.Rm, op.Size));
            case Handler.BitScanM: return BitScanMemory(ref op);
            case Handler.SetccM: return SetByteOnConditionMemory(ref op);
            case Handler.CmovRM: return ConditionalMoveMemory(ref op);
            case Handler.CmpxchgR: return CompareExchangeRegister(ref op);
            case Handler.CmpxchgM: return CompareExchangeMemory(ref op);
            case Handler.Cmpxchg8bM: return CompareExchangeDouble(ref op);
            case Handler.XaddR: return ExchangeAddRegisters(ref op);
            case Handler.XaddM: return ExchangeAddMemory(ref op);
            case Handler.Bcd: return Bcd(ref op);
            case Handler.JmpR: return JumpAbsolute(ref op, GetReg(op.Rm, op.Size));
            case Handler.JmpM: return JumpMemory(ref op);
            case Handler.CallR: return CallAbsolute(ref op, GetReg(op.Rm, op.Size));
            case Handler.CallM: return CallMemory(ref op);
            case Handler.Loop: return Loop(ref op);
            case Handler.JmpFar: return FarJump(ref op, op.Imm16, op.Immediate);
            case Handler.JmpFarM: return FarJumpMemory(ref op);
            case Handler.CallFar: return FarCall(ref op, op.Imm16, op.Immediate);
            case Handler.CallFarM: return FarCallMemory(ref op);
            case Handler.RetFar: return FarReturn(ref op);
            case Handler.Iret: return InterruptReturn(ref op);
            case Handler.Int: return SoftwareInterrupt(ref op, (int)op.Immediate, EventKind.Software);
            case Handler.Int3: return SoftwareInterrupt(ref op, ExceptionVector.BP, EventKind.Software);
            case Handler.Into: return InterruptOnOverflow(ref op);
            case Handler.Int1: return SoftwareInterrupt(ref op, ExceptionVector.DB, EventKind.PrivilegedSoftware);
            case Handler.Bound: return Bound(ref op);
            case Handler.StringOp: return StringOperation(ref op);
            case Handler.InI: return PortIn(ref op, op.Imm16);
            case Handler.InDx: return PortIn(ref op, (ushort)_r[2]);
            case Handler.OutI: return PortOut(ref op, op.Imm16);
            case Handler.OutDx: return PortOut(ref op, (ushort)_r[2]);
            case Handler.Hlt: return Halt(ref op);
            case Handler.Cpuid: return ExecuteCpuid(ref op);
            case Handler.Rdtsc: return ReadTimeStampCounter(ref op);
            case Handler.Rdtscp: return ReadTimeStampCounterAndProcessorId(ref op);
            case Handler.RandomNumber: return ReadRandomNumber(ref op);
            case Handler.Rdmsr: return ReadMsr(ref op);
            case Handler.Wrmsr: return WriteMsr(ref op);
            case Handler.Rdpmc: return ReadPerformanceMonitoringCounter(ref op);
            case Handler.MovFromCr: return MoveFromControlRegister(ref op);
            case Handler.MovToCr: return MoveToControlRegister(ref op, op.Sub, _r[op.Rm]);
            case Handler.MovFromDr: return MoveFromDebugRegister(ref op);
            case Handler.MovToDr: return MoveToDebugRegister(ref op);
            case Handler.Clts: return ClearTaskSwitched(ref op);
            case Handler.Lmsw: return LoadMachineStatusWord(ref op);
            case Handler.SmswR: return StoreMachineStatusWordToRegister(ref op);
            case Handler.SmswM: return StoreMachineStatusWordToMemory(ref op);
            case Handler.Invlpg: return InvalidateTlbEntry(ref op);
            case Handler.Invpcid: return InvalidatePcid(ref op);
            case Handler.Wbinvd: return WriteBackAndInvalidateCaches(ref op);
            case Handler.Invd: return InvalidateCaches(ref op);
            case Handler.Lgdt or Handler.Lidt: return LoadDescriptorTable(ref op);
            case Handler.Sgdt or Handler.Sidt: return StoreDescriptorTable(ref op);
            case Handler.LldtR or Handler.LldtM or Handler.LtrR or Handler.LtrM: return LoadSystemSegment(ref op);
            case Handler.SldtR or Handler.StrR: return StoreSystemSegmentToRegister(ref op);
            case Handler.SldtM or Handler.StrM: return StoreSystemSegmentToMemory(ref op);
            case Handler.LarLsl: return LoadAccessRightsOrLimit(ref op);
            case Handler.VerrVerw: return VerifySegment(ref op);
            case Handler.ArplR or Handler.ArplM: return AdjustRpl(ref op);
            case Handler.Syscall: return Syscall(ref op);
            case Handler.Sysret: return Sysret(ref op);
            case Handler.Sysenter: return Sysenter(ref op);
            case Handler.Sysexit: return Sysexit(ref op);
            case Handler.Swapgs: return SwapGs(ref op);
            case Handler.ReadSegmentBase or Handler.WriteSegmentBase: return AccessSegmentBase(ref op);
            case Handler.Pause: return SpinLoopHint(ref op);
            case Handler.Fence: return Fence(ref op);
            case Handler.Xgetbv or Handler.Xsetbv: return ExtendedControlRegister(ref op);
            case Handler.MonitorMwait: return MonitorOrMwait(ref op);
            case Handler.Rsm: return ResumeFromSystemManagementMode(ref op);
            case Handler.VirtualizationInstruction: return VirtualizationInstruction(ref op);
            case Handler.X87Comparison: return ExecuteX87Comparison(ref op);
            case Handler.X87Transcendental: return ExecuteX87Transcendental(ref op);
            case Handler.X87Control: return ExecuteX87Control(ref op);
            default: return RaiseFault(ExceptionVector.UD, 0);
        }
    }
}
