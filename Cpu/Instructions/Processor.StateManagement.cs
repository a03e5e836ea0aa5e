using System.Buffers.Binary;
using Sim.Cpu.Registers;
using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// FXSAVE and FXRSTOR (SDM vol. 1, 10.5.1, table 10-2; vol. 2, FXSAVE/FXRSTOR): the 512-byte image of the x87, MMX and
/// SSE state, 16-byte aligned, in the 32-bit format (FIP/FDP 32 bits with CS and DS selectors) or, with REX.W, the
/// 64-bit format (FIP/FDP 64 bits). The x87 registers are stored in stack order, ST0 first; the tag is the abridged one.
/// XMM8–15 take part in 64-bit mode only. With CR4.OSFXSR = 0, MXCSR and the XMM registers are neither saved nor
/// restored, as QEMU does (the SDM leaves it implementation-dependent). Reserved bytes are left unwritten.
/// </summary>
public sealed unsafe partial class Processor
{
    private const int FxsaveAreaBytes = 512;

    /// <summary>CR0.EM and CR0.TS both make FXSAVE and FXRSTOR raise #NM (SDM vol. 2, FXSAVE protected-mode exceptions).</summary>
    private bool FxsrAvailable(ref DecodedOp op, byte access, out ulong linear)
    {
        linear = 0;
        if ((Cr0 & (Registers.Cr0.EM | Registers.Cr0.TS)) != 0) return RaiseFault(ExceptionVector.NM, 0);
        return SimdAddress(ref op, FxsaveAreaBytes, 16, access, out linear);
    }

    private int SavedXmmRegisters => _bitness == 64 ? 16 : 8;

    private static bool Fxsave(Processor p, ref DecodedOp op) => p.SaveFxState(ref op, false);

    private static bool Fxsave64(Processor p, ref DecodedOp op) => p.SaveFxState(ref op, true);

    private bool SaveFxState(ref DecodedOp op, bool format64)
    {
        if (!FxsrAvailable(ref op, AccessWrite, out var linear) || !ProbeWrite(linear, FxsaveAreaBytes)) return false;
        Span<byte> header = stackalloc byte[32];
        BinaryPrimitives.WriteUInt16LittleEndian(header, _fpuControl);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], _fpuStatus);
        header[4] = _fpuAbridgedTag;
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], _fpuOpcode);
        if (format64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(header[8..], _fpuInstructionPointer);
            BinaryPrimitives.WriteUInt64LittleEndian(header[16..], _fpuDataPointer);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)_fpuInstructionPointer);
            BinaryPrimitives.WriteUInt16LittleEndian(header[12..], _fpuInstructionSelector);
            BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)_fpuDataPointer);
            BinaryPrimitives.WriteUInt16LittleEndian(header[20..], _fpuDataSelector);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], _mxcsr);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], MxcsrMask);
        var osfxsr = (Cr4 & Registers.Cr4.OSFXSR) != 0;
        // Bytes 14–15 and 22–23 hold FCS and FDS only in the 32-bit format, so the header goes out in pieces.
        if (!WriteFxBytes(linear, 0, header[..8])) return false;
        if (!WriteFxBytes(linear, 8, format64 ? header[8..24] : header[8..14])) return false;
        if (!format64 && !WriteFxBytes(linear, 16, header[16..22])) return false;
        if (osfxsr && !WriteFxBytes(linear, 24, header[24..32])) return false;
        Span<byte> register = stackalloc byte[10];
        var top = (_fpuStatus >> 11) & 7;
        for (var i = 0; i < 8; i++)
        {
            _fpuRegisters[(top + i) & 7].Write(register);
            if (!WriteFxBytes(linear, 32 + 16 * i, register)) return false;
        }
        if (osfxsr)
        {
            for (var i = 0; i < SavedXmmRegisters; i++)
                if (!WriteFxBytes(linear, 160 + 16 * i, VectorRegister(i)[..16])) return false;
        }
        return Next(ref op);
    }

    private bool WriteFxBytes(ulong linear, int offset, ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i + 8 <= bytes.Length; i += 8)
            if (!WriteLinear(FxAddress(linear, offset + i), 8, BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..]))) return false;
        for (var i = bytes.Length & ~7; i < bytes.Length; i += 2)
            if (!WriteLinear(FxAddress(linear, offset + i), 2, BinaryPrimitives.ReadUInt16LittleEndian(bytes[i..]))) return false;
        return true;
    }

    private ulong FxAddress(ulong linear, int offset) => _bitness == 64 ? linear + (ulong)offset : (uint)(linear + (ulong)offset);

    private static bool Fxrstor(Processor p, ref DecodedOp op) => p.RestoreFxState(ref op, false);

    private static bool Fxrstor64(Processor p, ref DecodedOp op) => p.RestoreFxState(ref op, true);

    /// <summary>Reads the whole image before changing anything, so that a page fault or the #GP(0) of a reserved MXCSR bit leaves the state as it was.</summary>
    private bool RestoreFxState(ref DecodedOp op, bool format64)
    {
        if (!FxsrAvailable(ref op, AccessRead, out var linear)) return false;
        var osfxsr = (Cr4 & Registers.Cr4.OSFXSR) != 0;
        var length = osfxsr ? 160 + 16 * SavedXmmRegisters : 160;
        Span<byte> image = stackalloc byte[FxsaveAreaBytes];
        for (var i = 0; i < length; i += 8)
        {
            if (!ReadLinear(FxAddress(linear, i), 8, out var q)) return false;
            BinaryPrimitives.WriteUInt64LittleEndian(image[i..], q);
        }
        var mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(image[24..]);
        if (osfxsr && (mxcsr & ~MxcsrMask) != 0) return RaiseFault(ExceptionVector.GP, 0);
        _fpuControl = BinaryPrimitives.ReadUInt16LittleEndian(image);
        _fpuStatus = BinaryPrimitives.ReadUInt16LittleEndian(image[2..]);
        _fpuAbridgedTag = image[4];
        _fpuOpcode = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(image[6..]) & 0x7FF);
        if (format64)
        {
            _fpuInstructionPointer = BinaryPrimitives.ReadUInt64LittleEndian(image[8..]);
            _fpuDataPointer = BinaryPrimitives.ReadUInt64LittleEndian(image[16..]);
        }
        else
        {
            _fpuInstructionPointer = BinaryPrimitives.ReadUInt32LittleEndian(image[8..]);
            _fpuInstructionSelector = BinaryPrimitives.ReadUInt16LittleEndian(image[12..]);
            _fpuDataPointer = BinaryPrimitives.ReadUInt32LittleEndian(image[16..]);
            _fpuDataSelector = BinaryPrimitives.ReadUInt16LittleEndian(image[20..]);
        }
        var top = (_fpuStatus >> 11) & 7;
        for (var i = 0; i < 8; i++) _fpuRegisters[(top + i) & 7] = ExtendedReal.Read(image[(32 + 16 * i)..]);
        if (osfxsr)
        {
            _mxcsr = mxcsr;
            for (var i = 0; i < SavedXmmRegisters; i++) image.Slice(160 + 16 * i, 16).CopyTo(VectorRegister(i));
        }
        return Next(ref op);
    }
}
