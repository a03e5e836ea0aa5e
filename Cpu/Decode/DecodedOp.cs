using System.Runtime.InteropServices;

namespace Sim.Cpu;

/// <summary>
/// One instruction decoded once by Iced and pre-resolved for the interpreter: which handler runs
/// it and its operands as register indices, an addressing form and immediates. Branch targets and
/// RIP-relative displacements are kept relative to the next instruction, so a block is valid at any
/// linear address that maps its physical page.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DecodedOp
{
    /// <summary>The function that executes this operation (from the operation table, by <see cref="Handler"/>).</summary>
    public delegate*<Processor, ref DecodedOp, bool> Execute;

    public const byte NoRegister = 0xFF;
    public const byte RipRegister = 0xFE;

    public Handler Handler;

    /// <summary>Instruction length in bytes.</summary>
    public byte Length;

    /// <summary>Operand size in bytes: 1, 2, 4 or 8.</summary>
    public byte Size;

    /// <summary>64 minus the address size in bits: the effective address is masked with ~0 >> AddressShift.</summary>
    public byte AddressShift;

    /// <summary>Sub-operation: ALU operation, condition code, shift kind, source size ...</summary>
    public byte Sub;

    /// <summary>First register operand: GPR 0–15, 16–19 for AH, CH, DH, BH; or a special register number.</summary>
    public byte R;

    /// <summary>Second register operand, same encoding.</summary>
    public byte Rm;

    /// <summary>Segment of the memory operand (<see cref="Registers.SegmentIndex"/>).</summary>
    public byte Segment;

    public byte Base;
    public byte IndexReg;
    public byte Scale;

    /// <summary><see cref="OpFlags"/>.</summary>
    public byte Flags;

    /// <summary>A second immediate: far-pointer selector, ENTER nesting level, port ...</summary>
    public ushort Imm16;

    public long Displacement;

    /// <summary>Immediate operand, or the branch displacement relative to the next instruction.</summary>
    public ulong Immediate;
}

/// <summary>Flags of a <see cref="DecodedOp"/>.</summary>
internal static class OpFlags
{
    public const byte Rep = 1;
    public const byte Repne = 2;
    public const byte Lock = 4;
    public const byte Memory = 8;
    /// <summary>The operation ends its block: it may change mode, privilege, IF, translations or code.</summary>
    public const byte EndsBlock = 16;
    public const byte SegmentOverride = 32;
}
