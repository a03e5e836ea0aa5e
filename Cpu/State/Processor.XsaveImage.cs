using System.Buffers.Binary;

namespace Sim.Cpu;

/// <summary>
/// The x87, SSE and AVX state as an XSAVE image in memory of the host (SDM vol. 1, 13.4, the standard format), for host
/// software written in C# that switches the state of one context for another's (a kernel model's vCPUs). The image is
/// what XSAVE64 with RFBM = <c>components</c> would write and what XRSTOR64 would load: the legacy region in the 64-bit
/// format with XMM0–15, the header's XSTATE_BV and a zero XCOMP_BV, the upper halves of YMM0–15 at byte 576. Neither
/// CR0.TS nor CR4.OSXSAVE is consulted: the host is not subject to them.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>
    /// The context whose x87/SSE/AVX state the registers hold, for host software that switches the state lazily: it
    /// saves the state of the context recorded here before it loads another's. The processor never sets it.
    /// </summary>
    public object? FpuStateOwner { get; set; }

    /// <summary>
    /// Writes the components <paramref name="components"/> (within <see cref="SupportedXcr0"/>) into <paramref name="area"/>,
    /// which must hold <see cref="XsaveAreaBytes"/> of them; bytes of components not saved and reserved bytes stay as they
    /// were. Returns the image size, or 0 when the area is too small.
    /// </summary>
    public int SaveXsaveImage(Span<byte> area, ulong components)
    {
        components &= SupportedXcr0;
        var size = (int)XsaveAreaBytes(components);
        if (area.Length < size) return 0;
        if ((components & X87StateComponent) != 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(area, _fpuControl);
            BinaryPrimitives.WriteUInt16LittleEndian(area[2..], _fpuStatus);
            area[4] = _fpuAbridgedTag;
            BinaryPrimitives.WriteUInt16LittleEndian(area[6..], _fpuOpcode);
            BinaryPrimitives.WriteUInt64LittleEndian(area[8..], _fpuInstructionPointer);
            BinaryPrimitives.WriteUInt64LittleEndian(area[16..], _fpuDataPointer);
            var top = (_fpuStatus >> 11) & 7;
            for (var i = 0; i < 8; i++) _fpuRegisters[(top + i) & 7].Write(area[(LegacyRegistersOffset + 16 * i)..]);
        }
        if ((components & (SseStateComponent | AvxStateComponent)) != 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(area[LegacyMxcsrOffset..], _mxcsr);
            BinaryPrimitives.WriteUInt32LittleEndian(area[(LegacyMxcsrOffset + 4)..], MxcsrMask);
        }
        if ((components & SseStateComponent) != 0)
            for (var i = 0; i < VectorRegisterCount; i++) VectorRegister(i)[..16].CopyTo(area[(LegacyXmmOffset + 16 * i)..]);
        if ((components & AvxStateComponent) != 0)
            for (var i = 0; i < VectorRegisterCount; i++) VectorRegister(i)[16..].CopyTo(area[(XsaveExtendedOffset + 16 * i)..]);
        var header = area[XsaveHeaderOffset..];
        var oldBv = BinaryPrimitives.ReadUInt64LittleEndian(header);
        BinaryPrimitives.WriteUInt64LittleEndian(header, (oldBv & ~components) | (Xinuse & components));
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], 0);
        NoteStateImageWritten();
        return size;
    }

    /// <summary>
    /// Loads the components <paramref name="components"/> from a standard-format image: a component whose XSTATE_BV bit is
    /// clear gets its initial configuration. False, with nothing changed, for an area too small, a compacted or reserved
    /// header, XSTATE_BV bits outside <see cref="SupportedXcr0"/>, or a reserved MXCSR bit (XRSTOR's #GP(0) conditions).
    /// </summary>
    public bool RestoreXsaveImage(ReadOnlySpan<byte> area, ulong components)
    {
        components &= SupportedXcr0;
        if (area.Length < (int)XsaveAreaBytes(components)) return false;
        var header = area.Slice(XsaveHeaderOffset, 64);
        var xstateBv = BinaryPrimitives.ReadUInt64LittleEndian(header);
        if ((xstateBv & ~SupportedXcr0) != 0 || header[8..24].IndexOfAnyExcept((byte)0) >= 0) return false;
        var loadMxcsr = (components & (SseStateComponent | AvxStateComponent)) != 0;
        var mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(area[LegacyMxcsrOffset..]);
        if (loadMxcsr && (mxcsr & ~MxcsrMask) != 0) return false;
        var toRestore = components & xstateBv;
        var toInitialize = components & ~xstateBv;
        if ((toRestore & X87StateComponent) != 0) LoadX87Legacy(area, true);
        else if ((toInitialize & X87StateComponent) != 0) InitializeX87State();
        if (loadMxcsr) _mxcsr = mxcsr;
        for (var i = 0; i < VectorRegisterCount; i++)
        {
            var r = VectorRegister(i);
            if ((toRestore & SseStateComponent) != 0) area.Slice(LegacyXmmOffset + 16 * i, 16).CopyTo(r);
            else if ((toInitialize & SseStateComponent) != 0) r[..16].Clear();
            if ((toRestore & AvxStateComponent) != 0) area.Slice(XsaveExtendedOffset + 16 * i, 16).CopyTo(r[16..]);
            else if ((toInitialize & AvxStateComponent) != 0) r[16..].Clear();
        }
        _xinuseLoaded = (_xinuseLoaded & ~components) | toRestore;
        ResetXrstorInfo();
        return true;
    }
}
