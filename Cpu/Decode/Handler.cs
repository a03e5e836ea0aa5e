namespace Sim.Cpu;

/// <summary>The interpreter's operations. A name's suffix says its operand form: R register, M memory, I immediate.</summary>
internal enum Handler : ushort
{
    Ud,
    FpuSse,
    Nop,

    MovRR, MovRM, MovMR, MovRI, MovMI, MovMoffsLoad, MovMoffsStore,
    MovzxRR, MovzxRM, MovsxRR, MovsxRM,
    Lea,
    XchgRR, XchgRM,
    PushR, PushI, PushM, PopR, PopM, PushSeg, PopSeg,
    MovRSeg, MovMSeg, MovSegR, MovSegM,
    ConvertA, ConvertD,
    Bswap, MovbeRM, MovbeMR,
    Lahf, Sahf, Pushf, Popf,
    Cmc, Clc, Stc, Cld, Std, Cli, Sti,
    Clac, Stac,
    Xlat,
    LoadFarPointer,
    Enter, Leave, Pusha, Popa,

    AluRR, AluRM, AluMR, AluRI, AluMI,

    // Size-specialised forms of the most frequent operations (32- and 64-bit operands).
    MovRR32, MovRR64, MovRM32, MovRM64, MovMR32, MovMR64, AluRR32, AluRR64, AluRI32, AluRI64, AluRM32, AluRM64,
    TestRR, TestRI, TestMR, TestMI,
    UnaryR, UnaryM,
    ShiftR, ShiftM,
    ShiftDoubleR, ShiftDoubleM,
    MulDivR, MulDivM,
    Imul2R, Imul2M, Imul3R, Imul3M,
    BitR, BitM, BitScanR, BitScanM,
    SetccR, SetccM, CmovRR, CmovRM,
    CmpxchgR, CmpxchgM, Cmpxchg8bM, XaddR, XaddM,
    Bcd,

    Jcc, JmpRel, JmpR, JmpM, CallRel, CallR, CallM, Ret, Loop,
    JmpFar, JmpFarM, CallFar, CallFarM, RetFar, Iret,
    Int, Int3, Into, Int1, Bound,

    StringOp,
    InI, InDx, OutI, OutDx,

    Hlt, Cpuid, Rdtsc, Rdtscp, Rdmsr, Wrmsr, Rdpmc,
    MovFromCr, MovToCr, MovFromDr, MovToDr, Clts, Lmsw, SmswR, SmswM,
    Invlpg, Invpcid, Wbinvd, Invd,
    Lgdt, Lidt, Sgdt, Sidt, LldtR, LldtM, SldtR, SldtM, LtrR, LtrM, StrR, StrM,
    LarLsl, VerrVerw, ArplR, ArplM,
    Syscall, Sysret, Sysenter, Sysexit, Swapgs,
    ReadSegmentBase, WriteSegmentBase,
    Pause, Fence, Xgetbv, Xsetbv, MonitorMwait,
    VirtualizationInstruction,
}
