namespace Sim.Cpu;

/// <summary>
/// The interpreter's operations. A name's suffix says its operand form: R register, M memory, I
/// immediate. The first group has functions of their own, specialised by size (Processor.Dispatch.cs
/// lists them); the second goes through Processor.ExecuteRare to a method in its instruction group's file.
/// </summary>
internal enum Handler : ushort
{
    MovRR, MovRM, MovMR, MovRI, MovMI, AluRR, AluRI, AluRM, AluMR, AluMI, TestRR, TestRI, TestMR,
    TestMI, Jcc, JmpRel, Lea, PushR, PopR, UnaryR, CallRel, Ret, Nop, MovzxRR, MovzxRM, MovsxRR, MovsxRM,
    SetccR, CmovRR,

    Ud, FpuSse, XchgRR, XchgRM, PushI, PushM, PopM, PushSeg, PopSeg, MovRSeg,
    MovMSeg, MovSegR, MovSegM, ConvertA, ConvertD, Bswap, MovbeRM, MovbeMR, Lahf, Sahf, Salc, Pushf, Popf, Cmc, Clc,
    Stc, Cld, Std, Cli, Sti, Xlat, LoadFarPointer, Enter, Leave, Pusha, Popa, UnaryM, ShiftR, ShiftM,
    ShiftDoubleR, ShiftDoubleM, MulDivR, MulDivM, Imul2R, Imul2M, Imul3R, Imul3M, BitR, BitM, BitScanR,
    BitScanM, SetccM, CmovRM, CmpxchgR, CmpxchgM, Cmpxchg8bM, XaddR, XaddM, Bcd, JmpR, JmpM, CallR, CallM,
    Loop, JmpFar, JmpFarM, CallFar, CallFarM, RetFar, Iret, Int, Int3, Into, Int1, Bound, StringOp, InI, InDx,
    OutI, OutDx, Hlt, Cpuid, Rdtsc, Rdtscp, Rdmsr, Wrmsr, Rdpmc, MovFromCr, MovToCr, MovFromDr, MovToDr, Clts,
    Lmsw, SmswR, SmswM, Invlpg, Invpcid, Wbinvd, Invd, Lgdt, Lidt, Sgdt, Sidt, LldtR, LldtM, SldtR, SldtM,
    LtrR, LtrM, StrR, StrM, LarLsl, VerrVerw, ArplR, ArplM, Syscall, Sysret, Sysenter, Sysexit, Swapgs,
    ReadSegmentBase, WriteSegmentBase, Pause, Fence, Xgetbv, Xsetbv, MonitorMwait, VirtualizationInstruction,
    Clac, Stac, Rsm, RandomNumber,

    /// <summary>BMI1, BMI2 and ADX: op.Sub indexes <see cref="Processor"/>'s bit-manipulation operations.</summary>
    BitManipulation,

    X87Transfer, X87Arithmetic, X87Comparison, X87Transcendental, X87Control,

    /// <summary>
    /// SIMD operations: op.Imm16 indexes <see cref="Processor"/>'s SIMD operation table; the name says which checks the
    /// operation makes (Avx: the VEX-encoded forms, checked by AvxAvailable).
    /// </summary>
    Sse, Mmx, SimdState, Avx,
}
