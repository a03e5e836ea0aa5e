using System.Buffers.Binary;
using Sim.Cpu.Registers;
using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// FXSAVE and FXRSTOR (SDM vol. 1, 10.5.1, table 10-2; vol. 2, FXSAVE/FXRSTOR): the 512-byte image of the x87, MMX and
/// SSE state, 16-byte aligned, in the 32-bit format (FIP/FDP 32 bits with CS and DS selectors) or, with REX.W, the
/// 64-bit format (FIP/FDP 64 bits). The x87 registers are stored in stack order, ST0 first; the tag is the abridged one.
/// XMM8–15 take part in 64-bit mode only. With CR4.OSFXSR = 0, MXCSR and the XMM registers are neither saved nor
/// restored, as QEMU does (the SDM leaves it implementation-dependent). Reserved bytes are left unwritten. The same
/// legacy-region pieces serve the first 512 bytes of an XSAVE area (vol. 1, 13.4.1, 13.5.1, 13.5.2).
/// </summary>
public sealed unsafe partial class Processor
{
    private const int FxsaveAreaBytes = 512;
    private const int LegacyX87Offset = 0;
    private const int LegacyMxcsrOffset = 24;
    private const int LegacyRegistersOffset = 32;
    private const int LegacyXmmOffset = 160;

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
        NoteStateImageWritten();
        var osfxsr = (Cr4 & Registers.Cr4.OSFXSR) != 0;
        if (!StoreX87Legacy(linear, format64)) return false;
        if (osfxsr && !(StoreMxcsrLegacy(linear) && StoreXmmLegacy(linear))) return false;
        return Next(ref op);
    }

    /// <summary>
    /// The x87 part of the legacy region (bytes 23:0 but MXCSR, and the registers at 32–159): FCW, FSW, the abridged FTW,
    /// FOP, FIP and FDP as 64-bit offsets (<paramref name="format64"/>) or as 32-bit offsets with FCS and FDS.
    /// </summary>
    private bool StoreX87Legacy(ulong linear, bool format64)
    {
        Span<byte> header = stackalloc byte[24];
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
        // Bytes 14–15 and 22–23 hold FCS and FDS only in the 32-bit format, so the header goes out in pieces.
        if (!WriteFxBytes(linear, LegacyX87Offset, header[..8])) return false;
        if (!WriteFxBytes(linear, 8, format64 ? header[8..24] : header[8..14])) return false;
        if (!format64 && !WriteFxBytes(linear, 16, header[16..22])) return false;
        Span<byte> register = stackalloc byte[10];
        var top = (_fpuStatus >> 11) & 7;
        for (var i = 0; i < 8; i++)
        {
            _fpuRegisters[(top + i) & 7].Write(register);
            if (!WriteFxBytes(linear, LegacyRegistersOffset + 16 * i, register)) return false;
        }
        return true;
    }

    /// <summary>MXCSR and MXCSR_MASK at bytes 24–31 of the legacy region.</summary>
    private bool StoreMxcsrLegacy(ulong linear) =>
        WriteLinear(FxAddress(linear, LegacyMxcsrOffset), 8, ((ulong)MxcsrMask << 32) | _mxcsr);

    /// <summary>XMM0–7 (XMM0–15 in 64-bit mode) at byte 160 of the legacy region.</summary>
    private bool StoreXmmLegacy(ulong linear)
    {
        for (var i = 0; i < SavedXmmRegisters; i++)
            if (!WriteFxBytes(linear, LegacyXmmOffset + 16 * i, VectorRegister(i)[..16])) return false;
        return true;
    }

    /// <summary>Writes whole quadwords, then words (every piece of the images is a multiple of two bytes).</summary>
    private bool WriteFxBytes(ulong linear, int offset, ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i + 8 <= bytes.Length; i += 8)
            if (!WriteLinear(FxAddress(linear, offset + i), 8, BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..]))) return false;
        for (var i = bytes.Length & ~7; i < bytes.Length; i += 2)
            if (!WriteLinear(FxAddress(linear, offset + i), 2, BinaryPrimitives.ReadUInt16LittleEndian(bytes[i..]))) return false;
        return true;
    }

    /// <summary>Reads bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of a state image into the same place of <paramref name="image"/>; both multiples of 8.</summary>
    private bool ReadFxBytes(ulong linear, int offset, int length, Span<byte> image)
    {
        for (var i = offset; i < offset + length; i += 8)
        {
            if (!ReadLinear(FxAddress(linear, i), 8, out var q)) return false;
            BinaryPrimitives.WriteUInt64LittleEndian(image[i..], q);
        }
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
        Span<byte> image = stackalloc byte[FxsaveAreaBytes];
        if (!ReadFxBytes(linear, 0, osfxsr ? LegacyXmmOffset + 16 * SavedXmmRegisters : LegacyXmmOffset, image)) return false;
        var mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(image[LegacyMxcsrOffset..]);
        if (osfxsr && (mxcsr & ~MxcsrMask) != 0) return RaiseFault(ExceptionVector.GP, 0);
        LoadX87Legacy(image, format64);
        if (osfxsr)
        {
            _mxcsr = mxcsr;
            LoadXmmLegacy(image);
        }
        return Next(ref op);
    }

    /// <summary>Loads the x87 state from a legacy-region image (<see cref="StoreX87Legacy"/>'s layout); FOP keeps its 11 bits.</summary>
    private void LoadX87Legacy(ReadOnlySpan<byte> image, bool format64)
    {
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
        for (var i = 0; i < 8; i++) _fpuRegisters[(top + i) & 7] = ExtendedReal.Read(image[(LegacyRegistersOffset + 16 * i)..]);
    }

    private void LoadXmmLegacy(ReadOnlySpan<byte> image)
    {
        for (var i = 0; i < SavedXmmRegisters; i++) image.Slice(LegacyXmmOffset + 16 * i, 16).CopyTo(VectorRegister(i));
    }
}
