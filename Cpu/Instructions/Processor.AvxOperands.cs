using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>
/// What the VEX-encoded instructions share (SDM vol. 2, 2.3 and 2.8; vol. 1, 14): their availability check, the YMM
/// registers, the VEX.128 rule that a written XMM destination has bits 255:128 zeroed, and 32-byte memory operands.
/// Only VMOVAPS/PD, VMOVDQA and the VMOVNT forms check alignment (exception class 1); every other VEX memory
/// operand may be unaligned (class 4 and later).
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>
    /// VEX is #UD in real-address and virtual-8086 mode, with CR4.OSXSAVE = 0, or unless XCR0 enables both SSE and AVX
    /// state (XCR0[2:1] = 11b); CR0.TS then gives #NM. CR0.EM and CR4.OSFXSR are not consulted (SDM vol. 2, table 2-20).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool AvxAvailable()
    {
        if ((Cr0 & Registers.Cr0.PE) == 0 || InVirtual8086Mode || (Cr4 & Registers.Cr4.OSXSAVE) == 0 || (Xcr0 & 0b110) != 0b110)
            return RaiseFault(ExceptionVector.UD, 0);
        if ((Cr0 & Registers.Cr0.TS) != 0) return RaiseFault(ExceptionVector.NM, 0);
        return true;
    }

    /// <summary>
    /// For the functions that serve a legacy form and its VEX form alike (VMOVD, VCVTSS2SI, VCOMISS, VLDMXCSR ...):
    /// the availability check of the operation's encoding, <see cref="AvxAvailable"/> for Handler.Avx, else <see cref="SseAvailable"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool SseOrAvxAvailable(ref DecodedOp op) => op.Handler == Handler.Avx ? AvxAvailable() : SseAvailable();

    /// <summary>Writes an XMM result of a function shared by the legacy and VEX forms: the VEX form zeroes bits 255:128, the legacy one keeps them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetXmmResult(ref DecodedOp op, int index, Vector128<byte> value)
    {
        if (op.Handler == Handler.Avx) SetXmmZeroUpper(index, value);
        else Xmm(index) = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Vector256<byte> Ymm(int index) => ref Unsafe.AsRef<Vector256<byte>>(_vectorRegisters + index * VectorRegisterBytes);

    /// <summary>Writes the XMM result of a VEX.128 instruction: bits 255:128 of the YMM register are zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetXmmZeroUpper(int index, Vector128<byte> value) => Ymm(index) = Vector256.Create(value, Vector128<byte>.Zero);

    /// <summary>Writes a vector result of <paramref name="size"/> bytes (16: the upper half zeroed, 32: the whole register).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetVector(int index, int size, Vector256<byte> value) =>
        Ymm(index) = size == 32 ? value : Vector256.Create(value.GetLower(), Vector128<byte>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ReadLinear32(ulong linear, out Vector256<byte> value)
    {
        ref var e = ref _tlbRead[SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= 4096 - 32)
        {
            value = Unsafe.ReadUnaligned<Vector256<byte>>((byte*)(e.Delta + (long)linear));
            return true;
        }
        value = default;
        var second = _bitness == 64 ? linear + 16 : (uint)(linear + 16);
        if (!ReadLinear16(linear, out var low) || !ReadLinear16(second, out var high)) return false;
        value = Vector256.Create(low, high);
        return true;
    }

    /// <summary>A 32-byte store: both pages are checked before either is written, so a page fault leaves memory as it was.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool WriteLinear32(ulong linear, Vector256<byte> value)
    {
        ref var e = ref _tlbWrite[SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= 4096 - 32)
        {
            Unsafe.WriteUnaligned((byte*)(e.Delta + (long)linear), value);
            return true;
        }
        if (!ProbeWrite(linear, 32)) return false;
        var second = _bitness == 64 ? linear + 16 : (uint)(linear + 16);
        return WriteLinear16(linear, value.GetLower()) && WriteLinear16(second, value.GetUpper());
    }

    /// <summary>The 256-bit source: YMM(rm) or 32 bytes of memory, 32-byte aligned when <paramref name="alignment"/> is 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool YmmSource(ref DecodedOp op, int alignment, out Vector256<byte> value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            value = Ymm(op.Rm);
            return true;
        }
        value = default;
        return SimdAddress(ref op, 32, alignment, AccessRead, out var linear) && ReadLinear32(linear, out value);
    }

    /// <summary>
    /// The r/m source of a VEX vector form of op.Size bytes: for 16, XMM(rm) or 16 bytes of memory in the low half
    /// (the upper half is then zero); for 32, <see cref="YmmSource"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool VectorSource(ref DecodedOp op, int alignment, out Vector256<byte> value)
    {
        if (op.Size == 32) return YmmSource(ref op, alignment, out value);
        var ok = XmmSource(ref op, alignment, out var low);
        value = Vector256.Create(low, Vector128<byte>.Zero);
        return ok;
    }

    /// <summary>The r/m destination of a VEX store form of op.Size bytes: a register (a VEX.128 store zeroes its bits 255:128) or memory.</summary>
    private bool VectorStore(ref DecodedOp op, int alignment, Vector256<byte> value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            SetVector(op.Rm, op.Size, value);
            return true;
        }
        if (op.Size == 32) return SimdAddress(ref op, 32, alignment, AccessWrite, out var linear) && WriteLinear32(linear, value);
        return SimdAddress(ref op, 16, alignment, AccessWrite, out var linear16) && WriteLinear16(linear16, value.GetLower());
    }
}
