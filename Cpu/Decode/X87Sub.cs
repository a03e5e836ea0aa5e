namespace Sim.Cpu;

/// <summary>
/// The sub-operations of the x87 handlers (<see cref="DecodedOp.Sub"/>). For every x87 operation <see cref="DecodedOp.Imm16"/>
/// holds the 11-bit FPU opcode, <see cref="DecodedOp.Rm"/> the i of an ST(i) operand and <see cref="DecodedOp.R"/> an
/// operation's modifier (a pop, a condition, a constant).
/// </summary>
internal static class X87Sub
{
    // X87Transfer: loads, stores, FXCH, FCMOVcc and the constants.
    public const byte LoadRegister = 0, LoadReal32 = 1, LoadReal64 = 2, LoadReal80 = 3, LoadInt16 = 4, LoadInt32 = 5, LoadInt64 = 6, LoadBcd = 7;
    public const byte StoreRegister = 8, StoreReal32 = 9, StoreReal64 = 10, StoreReal80 = 11, StoreInt16 = 12, StoreInt32 = 13, StoreInt64 = 14,
        StoreBcd = 15, StoreTruncInt16 = 16, StoreTruncInt32 = 17, StoreTruncInt64 = 18;
    public const byte Exchange = 19, ConditionalMove = 20, LoadConstant = 21;

    // X87Arithmetic: the operation in bits 2:0 (the ModRM reg field of D8 /r), the operand form in bits 6:3.
    public const byte Add = 0, Multiply = 1, Subtract = 4, SubtractReverse = 5, Divide = 6, DivideReverse = 7;
    public const byte FormSt0Sti = 0, FormStiSt0 = 1, FormStiSt0Pop = 2, FormReal32 = 3, FormReal64 = 4, FormInt16 = 5, FormInt32 = 6;
    public const byte ChangeSign = 0x80, Absolute = 0x81, SquareRoot = 0x82, RoundToInteger = 0x83, Scale = 0x84, PartialRemainder = 0x85,
        PartialRemainder1 = 0x86, ExtractExponent = 0x87;

    // X87Comparison: the source in bits 2:0, unordered bit 3, pops in bits 5:4, EFLAGS bit 6; FXAM apart.
    public const byte SourceRegister = 0, SourceReal32 = 1, SourceReal64 = 2, SourceInt16 = 3, SourceInt32 = 4, SourceZero = 5;
    public const byte Unordered = 8, PopOnce = 16, PopTwice = 32, SetsEflags = 64, ExamineOp = 0x80;

    // X87Transcendental.
    public const byte Sine = 0, Cosine = 1, SineCosine = 2, PartialTangent = 3, PartialArctangent = 4, TwoToXMinus1 = 5, YLog2X = 6, YLog2XPlus1 = 7;

    // X87Control. R bit 0 set: the waiting form (FINIT, FCLEX, FSTCW ...) as one instruction.
    public const byte Initialize = 0, ClearExceptions = 1, LoadControlWord = 2, StoreControlWord = 3, StoreStatusWord = 4, StoreStatusWordAx = 5,
        StoreEnvironment = 6, LoadEnvironment = 7, SaveState = 8, RestoreState = 9, Wait = 10, NoOperation = 11, IncrementTop = 12,
        DecrementTop = 13, Free = 14, FreeAndPop = 15;
}
