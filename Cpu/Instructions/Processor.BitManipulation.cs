using System.Numerics;
using System.Runtime.CompilerServices;
using Iced.Intel;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>
/// The general-purpose bit-manipulation instructions (SDM vol. 2, and vol. 1, 5.21–5.22): BMI1's ANDN, BEXTR, BLSI,
/// BLSMSK and BLSR, BMI2's BZHI, MULX, PDEP, PEXT, RORX, SARX, SHLX and SHRX (all VEX-encoded), and ADX's ADCX and
/// ADOX. TZCNT and LZCNT are sub-operations of the bit scans (<see cref="BitScan"/>).
/// Operands follow the encoding: op.R is ModRM.reg, op.Rm the r/m register or the memory operand, op.Imm16 the
/// VEX.vvvv register, op.Immediate RORX's imm8, op.Size 4 (VEX.W0, or any W outside 64-bit mode) or 8.
/// Where the SDM leaves a flag undefined, the value is the one an AMD Zen 3 processor gives (measured):
/// PF from the result and AF clear, except BEXTR, which clears SF and sets AF.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>The operations of <see cref="Handler.BitManipulation"/>, indexed by op.Sub (<see cref="BitManipulationKind"/>).</summary>
    private static readonly delegate*<Processor, ref DecodedOp, bool>[] BitManipulationOperations =
    [
        &LogicalAndNot, &BitFieldExtract, &ExtractLowestSetBit, &MaskUpToLowestSetBit, &ResetLowestSetBit, &ZeroHighBits,
        &MultiplyUnsignedNoFlags, &ParallelBitsDeposit, &ParallelBitsExtract, &RotateRightNoFlags,
        &ShiftArithmeticRightNoFlags, &ShiftLeftNoFlags, &ShiftRightNoFlags, &AddWithCarryFlag, &AddWithOverflowFlag,
    ];

    private static int BitManipulationKind(Mnemonic m) => m switch
    {
        Mnemonic.Andn => 0,
        Mnemonic.Bextr => 1,
        Mnemonic.Blsi => 2,
        Mnemonic.Blsmsk => 3,
        Mnemonic.Blsr => 4,
        Mnemonic.Bzhi => 5,
        Mnemonic.Mulx => 6,
        Mnemonic.Pdep => 7,
        Mnemonic.Pext => 8,
        Mnemonic.Rorx => 9,
        Mnemonic.Sarx => 10,
        Mnemonic.Shlx => 11,
        Mnemonic.Shrx => 12,
        Mnemonic.Adcx => 13,
        Mnemonic.Adox => 14,
        _ => -1,
    };

    /// <summary>
    /// Binds a BMI1, BMI2 or ADX instruction; false for any other. Iced has already rejected what the SDM makes #UD
    /// at decode: VEX.L = 1, and a 66, F2, F3, REX or LOCK prefix before the VEX prefix.
    /// </summary>
    private bool BindBitManipulation(in Instruction instr, ref DecodedOp op)
    {
        var kind = BitManipulationKind(instr.Mnemonic);
        // AMD's XOP-encoded BEXTR (TBM) is not announced, so it stays #UD.
        if (kind < 0 || instr.Encoding is not (EncodingKind.Legacy or EncodingKind.VEX)) return false;
        op.Handler = Handler.BitManipulation;
        op.Sub = (byte)kind;
        op.Size = (byte)OperandSize(in instr, 0);
        var info = instr.Code.ToOpCode();
        for (var i = 0; i < instr.OpCount; i++)
        {
            switch (instr.GetOpKind(i))
            {
                case OpKind.Register:
                {
                    var number = Gpr(instr.GetOpRegister(i));
                    switch (OperandFields[(int)info.GetOpKind(i)])
                    {
                        case OperandField.Vvvv: op.Imm16 = number; break;
                        case OperandField.Rm: op.Rm = number; break;
                        default: op.R = number; break;
                    }
                    break;
                }
                case OpKind.Memory:
                    BindMemory(in instr, ref op);
                    break;
                case OpKind.Immediate8:
                    op.Immediate = instr.Immediate8;
                    break;
            }
        }
        return true;
    }

    /// <summary>The VEX-encoded GPR instructions are #UD in real-address and virtual-8086 mode (SDM vol. 2A, 2.5.1, table 2-29); CR4.OSXSAVE and XCR0 do not matter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool VexGeneralPurposeAvailable() =>
        ((Cr0 & Registers.Cr0.PE) != 0 && !InVirtual8086Mode) || RaiseFault(ExceptionVector.UD, 0);

    /// <summary>The r/m source of op.Size bytes: a register or the memory operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool BitManipulationSource(ref DecodedOp op, out ulong value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            value = GetReg(op.Rm, op.Size);
            return true;
        }
        return ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out value);
    }

    /// <summary>SF, ZF and PF of <paramref name="result"/>, with CF as given; OF and AF clear.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetBitManipulationFlags(int size, ulong result, bool carry)
    {
        result &= SizeMask(size);
        ReplaceStatusFlags(Parity(result) | (result == 0 ? Rflags.ZF : 0) | ((result & SignBit(size)) != 0 ? Rflags.SF : 0) | (carry ? Rflags.CF : 0));
    }

    /// <summary>Sets all six status flags at once: none of the lazily kept ones needs computing first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReplaceStatusFlags(ulong flags)
    {
        _flags = (_flags & ~Rflags.Status) | flags;
        _lazyMask = 0;
    }

    /// <summary>ANDN: DEST := (NOT SRC1) AND SRC2; SF and ZF from the result, OF and CF cleared.</summary>
    private static bool LogicalAndNot(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        var result = ~p.GetReg(op.Imm16, op.Size) & source;
        p.SetReg(op.R, op.Size, result);
        p.SetBitManipulationFlags(op.Size, result, false);
        return p.Next(ref op);
    }

    /// <summary>
    /// BEXTR: START := SRC2[7:0], LEN := SRC2[15:8]; DEST := SRC1[START + LEN − 1 : START], bits at and above the
    /// operand size reading as zero. ZF from the result, CF and OF cleared.
    /// </summary>
    private static bool BitFieldExtract(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        var control = p.GetReg(op.Imm16, op.Size);
        var start = (int)(control & 0xFF);
        var length = (int)((control >> 8) & 0xFF);
        var bits = op.Size * 8;
        var result = start >= bits ? 0 : source >> start;
        if (length < 64) result &= (1UL << length) - 1;
        p.SetReg(op.R, op.Size, result);
        p.ReplaceStatusFlags(Parity(result) | Rflags.AF | (result == 0 ? Rflags.ZF : 0));
        return p.Next(ref op);
    }

    /// <summary>BLSI: DEST := (−SRC) AND SRC; SF and ZF from the result, CF set when the source is not zero, OF cleared.</summary>
    private static bool ExtractLowestSetBit(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        var result = (0 - source) & source;
        p.SetReg(op.Imm16, op.Size, result);
        p.SetBitManipulationFlags(op.Size, result, source != 0);
        return p.Next(ref op);
    }

    /// <summary>BLSMSK: DEST := (SRC − 1) XOR SRC; SF from the result, CF set when the source is zero, ZF and OF cleared.</summary>
    private static bool MaskUpToLowestSetBit(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        // The result always has bit 0 set, so ZF comes out clear as the SDM says.
        var result = (source - 1) ^ source;
        p.SetReg(op.Imm16, op.Size, result);
        p.SetBitManipulationFlags(op.Size, result, source == 0);
        return p.Next(ref op);
    }

    /// <summary>BLSR: DEST := (SRC − 1) AND SRC; SF and ZF from the result, CF set when the source is zero, OF cleared.</summary>
    private static bool ResetLowestSetBit(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        var result = (source - 1) & source;
        p.SetReg(op.Imm16, op.Size, result);
        p.SetBitManipulationFlags(op.Size, result, source == 0);
        return p.Next(ref op);
    }

    /// <summary>
    /// BZHI: N := SRC2[7:0]; DEST := SRC1 with bits N and above cleared when N is below the operand size, else SRC1;
    /// CF set when N > operand size − 1; SF and ZF from the result, OF cleared.
    /// </summary>
    private static bool ZeroHighBits(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        var index = (int)(p.GetReg(op.Imm16, op.Size) & 0xFF);
        var bits = op.Size * 8;
        var result = index < bits ? source & ((1UL << index) - 1) : source;
        p.SetReg(op.R, op.Size, result);
        p.SetBitManipulationFlags(op.Size, result, index > bits - 1);
        return p.Next(ref op);
    }

    /// <summary>
    /// MULX: rDX × SRC unsigned; DEST2 (VEX.vvvv) := low half, then DEST1 (ModRM.reg) := high half, so that the high
    /// half remains when both name the same register. No flag changes.
    /// </summary>
    private static bool MultiplyUnsignedNoFlags(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        ulong high, low;
        if (op.Size == 8) high = Math.BigMul(p._r[2], source, out low);
        else
        {
            var product = (ulong)(uint)p._r[2] * (uint)source;
            low = (uint)product;
            high = product >> 32;
        }
        p.SetReg(op.Imm16, op.Size, low);
        p.SetReg(op.R, op.Size, high);
        return p.Next(ref op);
    }

    /// <summary>PDEP: DEST := SRC1's low bits deposited at the set bits of the mask SRC2. No flag changes.</summary>
    private static bool ParallelBitsDeposit(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var mask)) return false;
        p.SetReg(op.R, op.Size, ParallelBits.Deposit(p.GetReg(op.Imm16, op.Size), mask));
        return p.Next(ref op);
    }

    /// <summary>PEXT: DEST := SRC1's bits at the set bits of the mask SRC2, packed into the low bits. No flag changes.</summary>
    private static bool ParallelBitsExtract(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var mask)) return false;
        p.SetReg(op.R, op.Size, ParallelBits.Extract(p.GetReg(op.Imm16, op.Size), mask));
        return p.Next(ref op);
    }

    /// <summary>RORX: rotate right by imm8 masked to 5 bits (6 for 64-bit operands). No flag changes.</summary>
    private static bool RotateRightNoFlags(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        var result = op.Size == 8
            ? BitOperations.RotateRight(source, (int)(op.Immediate & 63))
            : BitOperations.RotateRight((uint)source, (int)(op.Immediate & 31));
        p.SetReg(op.R, op.Size, result);
        return p.Next(ref op);
    }

    /// <summary>The count of SARX, SHLX and SHRX: SRC2 masked to 5 bits (6 for 64-bit operands).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ShiftCountNoFlags(ref DecodedOp op) => (int)(GetReg(op.Imm16, op.Size) & (op.Size == 8 ? 63UL : 31UL));

    /// <summary>SARX: DEST := SRC1 shifted right arithmetically by the masked count. No flag changes.</summary>
    private static bool ShiftArithmeticRightNoFlags(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        var count = p.ShiftCountNoFlags(ref op);
        var result = op.Size == 8 ? (ulong)((long)source >> count) : (uint)((int)source >> count);
        p.SetReg(op.R, op.Size, result);
        return p.Next(ref op);
    }

    /// <summary>SHLX: DEST := SRC1 shifted left by the masked count. No flag changes.</summary>
    private static bool ShiftLeftNoFlags(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        p.SetReg(op.R, op.Size, source << p.ShiftCountNoFlags(ref op));
        return p.Next(ref op);
    }

    /// <summary>SHRX: DEST := SRC1 shifted right logically by the masked count. No flag changes.</summary>
    private static bool ShiftRightNoFlags(Processor p, ref DecodedOp op)
    {
        if (!p.VexGeneralPurposeAvailable() || !p.BitManipulationSource(ref op, out var source)) return false;
        p.SetReg(op.R, op.Size, source >> p.ShiftCountNoFlags(ref op));
        return p.Next(ref op);
    }

    /// <summary>ADCX: DEST := DEST + SRC + CF, unsigned; CF := the carry out; the other flags unchanged.</summary>
    private static bool AddWithCarryFlag(Processor p, ref DecodedOp op) => p.AddWithFlagCarry(ref op, Rflags.CF);

    /// <summary>ADOX: DEST := DEST + SRC + OF, unsigned; OF := the carry out; the other flags unchanged.</summary>
    private static bool AddWithOverflowFlag(Processor p, ref DecodedOp op) => p.AddWithFlagCarry(ref op, Rflags.OF);

    private bool AddWithFlagCarry(ref DecodedOp op, ulong flag)
    {
        if (!BitManipulationSource(ref op, out var source)) return false;
        var flags = MaterializeFlags();
        var carryIn = (flags & flag) != 0 ? 1UL : 0;
        var destination = GetReg(op.R, op.Size);
        var mask = SizeMask(op.Size);
        var sum = (destination + source + carryIn) & mask;
        var carryOut = sum < destination || (carryIn != 0 && sum == destination);
        SetReg(op.R, op.Size, sum);
        _flags = (flags & ~flag) | (carryOut ? flag : 0);
        return Next(ref op);
    }
}
