using System.Buffers.Binary;
using Iced.Intel;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>
/// The XSAVE feature set's save and restore instructions (SDM vol. 1, 13.7–13.12; vol. 2, XSAVE, XSAVEOPT, XSAVEC, XSAVES,
/// XRSTOR, XRSTORS): x87, SSE and AVX state in the 64-byte-aligned XSAVE area. The legacy region (bytes 0–511) has
/// FXSAVE's layout, its x87 pointers in the 64-bit format with REX.W; the header at 512 holds XSTATE_BV and XCOMP_BV;
/// the AVX state (the upper halves of YMM0–15) is at 576 in the standard format and, being the only extended component,
/// also first after the header in the compacted one. RFBM is XCR0 (XCR0 | IA32_XSS for XSAVES and XRSTORS) AND EDX:EAX.
/// XSAVE does not depend on CR4.OSFXSR or CR0.EM. Every byte an instruction may write is checked for writability before
/// the first is written, and XRSTOR reads and checks everything it loads before it changes any state, so that a fault
/// leaves both memory and registers as they were.
/// </summary>
public sealed unsafe partial class Processor
{
    private const int XsaveHeaderOffset = 512;
    private const int XsaveExtendedOffset = 576;
    private const int AvxStateBytes = 256;
    private const ulong CompactedFormat = 1UL << 63;
    private const uint MxcsrInitial = 0x1F80;

    /// <summary>The largest XSAVE area any XCR0 needs: legacy region, header and AVX state (CPUID.(EAX=0DH,ECX=0):ECX).</summary>
    public const int XsaveAreaMaxBytes = XsaveExtendedOffset + AvxStateBytes;

    /// <summary>The supervisor state components IA32_XSS may enable: none is implemented (CPUID.(EAX=0DH,ECX=1):ECX/EDX = 0).</summary>
    public const ulong SupportedXss = 0;

    /// <summary>
    /// IA32_XSS (MSR 0DA0H, SDM vol. 1, 13.3): the supervisor state components XSAVES and XRSTORS manage, in addition to
    /// XCR0's. A bit of an unsupported component cannot be set (WRMSR #GP), so it is always 0 here.
    /// </summary>
    public ulong Xss { get; private set; }

    /// <summary>The XSAVE area size for the components <paramref name="components"/>: 576, or 832 with AVX (CPUID.(EAX=0DH):EBX).</summary>
    public static uint XsaveAreaBytes(ulong components) => (uint)(XsaveExtendedOffset + ((components & AvxStateComponent) != 0 ? AvxStateBytes : 0));

    private enum XsaveForm : byte { Standard, Optimized, Compacted, Supervisor }

    private static SimdOperation[] XsaveOperations() =>
    [
        new(Code.Xsave_mem, Handler.SimdState, &Xsave),
        new(Code.Xsave64_mem, Handler.SimdState, &Xsave64),
        new(Code.Xsaveopt_mem, Handler.SimdState, &Xsaveopt),
        new(Code.Xsaveopt64_mem, Handler.SimdState, &Xsaveopt64),
        new(Code.Xsavec_mem, Handler.SimdState, &Xsavec),
        new(Code.Xsavec64_mem, Handler.SimdState, &Xsavec64),
        new(Code.Xsaves_mem, Handler.SimdState, &Xsaves),
        new(Code.Xsaves64_mem, Handler.SimdState, &Xsaves64),
        new(Code.Xrstor_mem, Handler.SimdState, &Xrstor),
        new(Code.Xrstor64_mem, Handler.SimdState, &Xrstor64),
        new(Code.Xrstors_mem, Handler.SimdState, &Xrstors),
        new(Code.Xrstors64_mem, Handler.SimdState, &Xrstors64),
    ];

    private static bool Xsave(Processor p, ref DecodedOp op) => p.SaveExtendedState(ref op, XsaveForm.Standard, false);
    private static bool Xsave64(Processor p, ref DecodedOp op) => p.SaveExtendedState(ref op, XsaveForm.Standard, true);
    private static bool Xsaveopt(Processor p, ref DecodedOp op) => p.SaveExtendedState(ref op, XsaveForm.Optimized, false);
    private static bool Xsaveopt64(Processor p, ref DecodedOp op) => p.SaveExtendedState(ref op, XsaveForm.Optimized, true);
    private static bool Xsavec(Processor p, ref DecodedOp op) => p.SaveExtendedState(ref op, XsaveForm.Compacted, false);
    private static bool Xsavec64(Processor p, ref DecodedOp op) => p.SaveExtendedState(ref op, XsaveForm.Compacted, true);
    private static bool Xsaves(Processor p, ref DecodedOp op) => p.SaveExtendedState(ref op, XsaveForm.Supervisor, false);
    private static bool Xsaves64(Processor p, ref DecodedOp op) => p.SaveExtendedState(ref op, XsaveForm.Supervisor, true);
    private static bool Xrstor(Processor p, ref DecodedOp op) => p.RestoreExtendedState(ref op, false, false);
    private static bool Xrstor64(Processor p, ref DecodedOp op) => p.RestoreExtendedState(ref op, false, true);
    private static bool Xrstors(Processor p, ref DecodedOp op) => p.RestoreExtendedState(ref op, true, false);
    private static bool Xrstors64(Processor p, ref DecodedOp op) => p.RestoreExtendedState(ref op, true, true);

    /// <summary>EDX:EAX, the instruction mask (the upper halves of RDX and RAX are ignored).</summary>
    private ulong InstructionMask => ((ulong)(uint)_r[2] << 32) | (uint)_r[0];

    /// <summary>
    /// XSAVE, XSAVEOPT, XSAVEC and XSAVES (vol. 2, their Operation sections). Faults in the SDM's priority: #UD without
    /// CR4.OSXSAVE (LOCK is #UD at decode); for XSAVES the VMX unit's check (#UD or a VM exit), then #GP(0) at CPL &gt; 0;
    /// #NM with CR0.TS; the segment checks and #GP(0) for an area not 64-byte aligned; page faults before any write.
    /// </summary>
    private bool SaveExtendedState(ref DecodedOp op, XsaveForm form, bool format64)
    {
        if ((Cr4 & Registers.Cr4.OSXSAVE) == 0) return RaiseFault(ExceptionVector.UD, 0);
        var supervisor = form == XsaveForm.Supervisor;
        if (supervisor)
        {
            if (Hooks != null && Intercepted(ref op, InterceptKind.Xsaves)) return _hookRetired;
            if (!RequireCpl0()) return false;
        }
        if ((Cr0 & Registers.Cr0.TS) != 0) return RaiseFault(ExceptionVector.NM, 0);
        var rfbm = (supervisor ? Xcr0 | Xss : Xcr0) & InstructionMask;
        var size = (int)XsaveAreaBytes(rfbm);
        if (!SimdAddress(ref op, size, 64, AccessWrite, out var linear) || !ProbeWrite(linear, size)) return false;
        var compacted = form is XsaveForm.Compacted or XsaveForm.Supervisor;
        var inUse = Xinuse;
        var toSave = form == XsaveForm.Standard ? rfbm : rfbm & inUse;
        var compactionMask = form == XsaveForm.Supervisor ? rfbm | CompactedFormat : 0;
        var optimized = form is XsaveForm.Optimized or XsaveForm.Supervisor && RestoreInfoMatches(linear, compactionMask);
        if (optimized) toSave &= Xmodified();
        // MXCSR belongs to SSE state, but XINUSE[1] covers only the XMM registers: the compacted forms save SSE state while MXCSR ≠ 1F80H.
        var mxcsrInUse = compacted && (rfbm & SseStateComponent) != 0 && _mxcsr != MxcsrInitial;
        if (mxcsrInUse) toSave |= SseStateComponent;
        ulong oldBv = 0;
        if (!compacted && !ReadLinear(FxAddress(linear, XsaveHeaderOffset), 8, out oldBv)) return false;
        if ((toSave & X87StateComponent) != 0 && !StoreX87Legacy(linear, format64)) return false;
        if ((toSave & SseStateComponent) != 0 && !StoreXmmLegacy(linear)) return false;
        var storeMxcsr = compacted ? (toSave & SseStateComponent) != 0 : (rfbm & (SseStateComponent | AvxStateComponent)) != 0;
        if (storeMxcsr && !StoreMxcsrLegacy(linear)) return false;
        if ((toSave & AvxStateComponent) != 0)
        {
            for (var i = 0; i < SavedXmmRegisters; i++)
                if (!WriteFxBytes(linear, XsaveExtendedOffset + 16 * i, VectorRegister(i)[16..])) return false;
        }
        if (compacted)
        {
            var xstateBv = (rfbm & inUse) | (mxcsrInUse ? SseStateComponent : 0);
            if (!WriteLinear(FxAddress(linear, XsaveHeaderOffset), 8, xstateBv)) return false;
            if (!WriteLinear(FxAddress(linear, XsaveHeaderOffset + 8), 8, rfbm | CompactedFormat)) return false;
        }
        else if (!WriteLinear(FxAddress(linear, XsaveHeaderOffset), 8, (oldBv & ~rfbm) | (inUse & rfbm))) return false;
        if (optimized) NoteComponentsSaved(toSave);
        else NoteStateImageWritten();
        return Next(ref op);
    }

    /// <summary>
    /// XRSTOR and XRSTORS (vol. 2, their Operation sections): the standard form (XCOMP_BV[63] = 0; XRSTORS has none) or
    /// the compacted form. #GP(0) for reserved header bits (bytes 23:8 in the standard form, 63:16 in the compacted one),
    /// XSTATE_BV bits outside XCR0 (standard) or XCOMP_BV (compacted), XCOMP_BV bits outside XCR0 (| IA32_XSS for
    /// XRSTORS), and a reserved MXCSR bit in a value that would be loaded. A component with RFBM[i] = 1 and XSTATE_BV[i] = 0
    /// (or, compacted, XCOMP_BV[i] = 0) gets its initial configuration; the standard form loads MXCSR whenever RFBM[1] or
    /// RFBM[2] is set, the compacted form with the SSE state (1F80H when it initializes it).
    /// </summary>
    private bool RestoreExtendedState(ref DecodedOp op, bool supervisor, bool format64)
    {
        if ((Cr4 & Registers.Cr4.OSXSAVE) == 0) return RaiseFault(ExceptionVector.UD, 0);
        if (supervisor)
        {
            if (Hooks != null && Intercepted(ref op, InterceptKind.Xrstors)) return _hookRetired;
            if (!RequireCpl0()) return false;
        }
        if ((Cr0 & Registers.Cr0.TS) != 0) return RaiseFault(ExceptionVector.NM, 0);
        var enabled = supervisor ? Xcr0 | Xss : Xcr0;
        var rfbm = enabled & InstructionMask;
        if (!SimdAddress(ref op, (int)XsaveAreaBytes(rfbm), 64, AccessRead, out var linear)) return false;
        Span<byte> image = stackalloc byte[XsaveAreaMaxBytes];
        if (!ReadFxBytes(linear, XsaveHeaderOffset, 64, image)) return false;
        var header = image.Slice(XsaveHeaderOffset, 64);
        var xstateBv = BinaryPrimitives.ReadUInt64LittleEndian(header);
        var xcompBv = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        var compacted = (xcompBv & CompactedFormat) != 0;
        ulong toRestore, toInitialize;
        bool loadMxcsr;
        if (compacted)
        {
            var format = xcompBv & ~CompactedFormat;
            if ((format & ~enabled) != 0 || (xstateBv & ~xcompBv) != 0 || header[16..].IndexOfAnyExcept((byte)0) >= 0)
                return RaiseFault(ExceptionVector.GP, 0);
            toRestore = format & rfbm & xstateBv;
            toInitialize = (rfbm & ~xstateBv) | (rfbm & ~format);
            loadMxcsr = (toRestore & SseStateComponent) != 0;
        }
        else
        {
            if (supervisor || (xstateBv & ~Xcr0) != 0 || header[8..24].IndexOfAnyExcept((byte)0) >= 0) return RaiseFault(ExceptionVector.GP, 0);
            toRestore = rfbm & xstateBv;
            toInitialize = rfbm & ~xstateBv;
            loadMxcsr = (rfbm & (SseStateComponent | AvxStateComponent)) != 0;
        }
        if ((toRestore & X87StateComponent) != 0 && !ReadFxBytes(linear, 0, LegacyXmmOffset, image)) return false;
        if (loadMxcsr && !ReadFxBytes(linear, LegacyMxcsrOffset, 8, image)) return false;
        var registers = SavedXmmRegisters;
        if ((toRestore & SseStateComponent) != 0 && !ReadFxBytes(linear, LegacyXmmOffset, 16 * registers, image)) return false;
        if ((toRestore & AvxStateComponent) != 0 && !ReadFxBytes(linear, XsaveExtendedOffset, 16 * registers, image)) return false;
        var mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(image[LegacyMxcsrOffset..]);
        if (loadMxcsr && (mxcsr & ~MxcsrMask) != 0) return RaiseFault(ExceptionVector.GP, 0);

        if ((toRestore & X87StateComponent) != 0) LoadX87Legacy(image, format64);
        else if ((toInitialize & X87StateComponent) != 0) InitializeX87State();
        if (loadMxcsr) _mxcsr = mxcsr;
        if ((toRestore & SseStateComponent) != 0) LoadXmmLegacy(image);
        else if ((toInitialize & SseStateComponent) != 0)
        {
            for (var i = 0; i < registers; i++) VectorRegister(i)[..16].Clear();
            if (compacted) _mxcsr = MxcsrInitial;
        }
        if ((toRestore & AvxStateComponent) != 0)
        {
            for (var i = 0; i < registers; i++) image.Slice(XsaveExtendedOffset + 16 * i, 16).CopyTo(VectorRegister(i)[16..]);
        }
        else if ((toInitialize & AvxStateComponent) != 0)
        {
            for (var i = 0; i < registers; i++) VectorRegister(i)[16..].Clear();
        }
        _xinuseLoaded = (_xinuseLoaded & ~rfbm) | toRestore;
        RecordRestore(rfbm, linear, xcompBv);
        return Next(ref op);
    }

    /// <summary>The x87 state's initial configuration (SDM vol. 1, 13.6): FCW 037FH, FSW 0, all tags empty, pointers, opcode and registers 0.</summary>
    private void InitializeX87State()
    {
        _fpuControl = 0x037F;
        _fpuStatus = 0;
        _fpuAbridgedTag = 0;
        _fpuOpcode = 0;
        _fpuInstructionPointer = _fpuDataPointer = 0;
        _fpuInstructionSelector = _fpuDataSelector = 0;
        Array.Clear(_fpuRegisters);
    }

    /// <summary>WRMSR to IA32_XSS: only bits of supported supervisor components may be set, and there are none (SDM vol. 4, table 2-2).</summary>
    private bool WriteXss(ulong value)
    {
        if ((value & ~SupportedXss) != 0) return false;
        Xss = value;
        return true;
    }
}
