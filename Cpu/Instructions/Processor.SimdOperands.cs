using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>
/// What the SSE, SSE2 and MMX instructions share: their availability checks (SDM vol. 3, 13.1 and vol. 2, tables
/// 22-4 to 22-8), the XMM and MMX registers, 4-, 8- and 16-byte memory operands with the alignment rules of the
/// aligned forms, and how the MXCSR exception flags end an instruction (masked: flags; unmasked: #XM or #UD, no result).
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>CR0.EM or CR4.OSFXSR = 0 make SSE/SSE2 undefined; CR0.TS makes them #NM.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool SseAvailable()
    {
        if ((Cr0 & Registers.Cr0.EM) != 0 || (Cr4 & Registers.Cr4.OSFXSR) == 0) return RaiseFault(ExceptionVector.UD, 0);
        if ((Cr0 & Registers.Cr0.TS) != 0) return RaiseFault(ExceptionVector.NM, 0);
        return true;
    }

    /// <summary>
    /// MMX instructions need only CR0.EM = 0; CR0.TS gives #NM, and a pending x87 exception (FSW.ES) is delivered
    /// first as #MF when CR0.NE = 1. The instruction enters the MMX state (<see cref="EnterMmxState"/>) once it can no longer fault.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MmxAvailable()
    {
        if ((Cr0 & Registers.Cr0.EM) != 0) return RaiseFault(ExceptionVector.UD, 0);
        if ((Cr0 & Registers.Cr0.TS) != 0) return RaiseFault(ExceptionVector.NM, 0);
        if ((_fpuStatus & 0x80) != 0 && (Cr0 & Registers.Cr0.NE) != 0) return RaiseFault(ExceptionVector.MF, 0);
        return true;
    }

    /// <summary>An SSE instruction with MMX operands (CVTPI2PS, MOVDQ2Q ...): the SSE checks, then the MMX pending-exception check and transition.</summary>
    private bool SseWithMmxAvailable()
    {
        if (!SseAvailable()) return false;
        if ((_fpuStatus & 0x80) != 0 && (Cr0 & Registers.Cr0.NE) != 0) return RaiseFault(ExceptionVector.MF, 0);
        return true;
    }

    /// <summary>Every MMX instruction but EMMS sets TOP = 0 and all tags valid (SDM vol. 1, 9.5.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnterMmxState()
    {
        _fpuStatus &= 0xC7FF;
        _fpuAbridgedTag = 0xFF;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Vector128<byte> Xmm(int index) => ref Unsafe.AsRef<Vector128<byte>>(_vectorRegisters + index * VectorRegisterBytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref ulong XmmQword(int index, int lane) => ref Unsafe.AsRef<ulong>(_vectorRegisters + index * VectorRegisterBytes + lane * 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref uint XmmDword(int index, int lane) => ref Unsafe.AsRef<uint>(_vectorRegisters + index * VectorRegisterBytes + lane * 4);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Mm(int index) => _fpuRegisters[index & 7].Significand;

    /// <summary>Writing MMi fills the significand of Ri and sets its sign and exponent to all ones (SDM vol. 1, 9.5.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetMm(int index, ulong value)
    {
        EnterMmxState();
        _fpuRegisters[index & 7] = new X87.ExtendedReal(0xFFFF, value);
    }

    /// <summary>The linear address of a SIMD memory operand after the segment checks, and #GP(0) for a misaligned operand of an aligned form (whatever the segment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool SimdAddress(ref DecodedOp op, int size, int alignment, byte access, out ulong linear)
    {
        if (!ToLinear(op.Segment, EffectiveAddress(ref op), size, access, out linear)) return false;
        if ((linear & (ulong)(alignment - 1)) != 0) return RaiseFault(ExceptionVector.GP, 0);
        return true;
    }

    private ulong NextQword(ulong linear) => _bitness == 64 ? linear + 8 : (uint)(linear + 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ReadLinear16(ulong linear, out Vector128<byte> value)
    {
        ref var e = ref _tlbRead[SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= 4096 - 16)
        {
            value = Unsafe.ReadUnaligned<Vector128<byte>>((byte*)(e.Delta + (long)linear));
            return true;
        }
        value = default;
        if (!ReadLinear(linear, 8, out var low) || !ReadLinear(NextQword(linear), 8, out var high)) return false;
        value = Vector128.Create(low, high).AsByte();
        return true;
    }

    /// <summary>A 16-byte store: both pages are checked before either is written, so a page fault leaves memory as it was.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool WriteLinear16(ulong linear, Vector128<byte> value)
    {
        ref var e = ref _tlbWrite[SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= 4096 - 16)
        {
            Unsafe.WriteUnaligned((byte*)(e.Delta + (long)linear), value);
            return true;
        }
        if (!ProbeWrite(linear, 16)) return false;
        var q = value.AsUInt64();
        return WriteLinear(linear, 8, q.GetElement(0)) && WriteLinear(NextQword(linear), 8, q.GetElement(1));
    }

    /// <summary>The 128-bit source: XMM(rm) or memory, 16-byte aligned when <paramref name="alignment"/> is 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool XmmSource(ref DecodedOp op, int alignment, out Vector128<byte> value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            value = Xmm(op.Rm);
            return true;
        }
        value = default;
        return SimdAddress(ref op, 16, alignment, AccessRead, out var linear) && ReadLinear16(linear, out value);
    }

    /// <summary>A 4- or 8-byte source: the low lane of XMM(rm), or memory (never alignment-checked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool XmmScalarSource(ref DecodedOp op, int size, out ulong value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            value = size == 8 ? XmmQword(op.Rm, 0) : XmmDword(op.Rm, 0);
            return true;
        }
        return ReadMem(op.Segment, EffectiveAddress(ref op), size, out value);
    }

    /// <summary>The 64-bit source of an MMX form: MM(rm) or memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool MmSource(ref DecodedOp op, out ulong value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            value = Mm(op.Rm);
            return true;
        }
        return ReadMem(op.Segment, EffectiveAddress(ref op), 8, out value);
    }

    /// <summary>The general-purpose or memory source of MOVD, CVTSI2SS, PINSRW ...</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool GprSource(ref DecodedOp op, int size, out ulong value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            value = GetReg(op.Rm, size);
            return true;
        }
        return ReadMem(op.Segment, EffectiveAddress(ref op), size, out value);
    }

    private bool XmmStore(ref DecodedOp op, int alignment, Vector128<byte> value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            Xmm(op.Rm) = value;
            return true;
        }
        return SimdAddress(ref op, 16, alignment, AccessWrite, out var linear) && WriteLinear16(linear, value);
    }

    /// <summary>
    /// Ends a floating-point instruction's exception handling (SDM vol. 1, 11.5.1): an unmasked pre-computation
    /// exception (IE, DE, ZE) in any lane stops the post-computation ones; the flags found are set; an unmasked one
    /// raises #XM with CR4.OSXMMEXCPT = 1, else #UD; false then, and the caller writes no result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool SimdExceptions(uint flags)
    {
        if (flags == 0) return true;
        var masks = (_mxcsr >> 7) & 0x3F;
        var pre = flags & SimdFloat.PreComputation;
        if ((pre & ~masks) != 0) flags = pre;
        _mxcsr |= flags;
        if ((flags & ~masks) == 0) return true;
        return RaiseFault((Cr4 & Registers.Cr4.OSXMMEXCPT) != 0 ? ExceptionVector.XM : ExceptionVector.UD, 0);
    }
}
