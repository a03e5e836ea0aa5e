using Iced.Intel;
using Sim.Cpu.Registers;

namespace Sim.Cpu.Virtualization;

/// <summary>
/// The instruction that caused an intercept, as decoded: what VM-exit instruction length and
/// instruction information, next-RIP and decode assists need. Registers are GPR numbers 0–15
/// (16–19 for AH, CH, DH, BH), -1 where absent; a base of -2 is RIP.
/// </summary>
public readonly record struct InterceptedInstruction(
    Code Code,
    int Length,
    int OperandSize,
    int AddressSize,
    bool HasMemoryOperand,
    SegmentIndex Segment,
    int BaseRegister,
    int IndexRegister,
    int Scale,
    long Displacement,
    int Register,
    int RmRegister,
    bool Rep,
    ulong Immediate);
