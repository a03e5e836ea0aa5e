using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// The processor's tracking of XSAVE-managed state (SDM vol. 1, 13.6) that the init and modified optimizations use.
/// <para>XINUSE: a state component is in use when XRSTOR or XRSTORS last loaded it from an image (XSTATE_BV[i] = 1; the
/// SDM, 13.8.3, has it tracked as in use then whatever its value) or when it is not in its initial configuration; a
/// component in its initial configuration that no XRSTOR loaded is tracked as not in use. So XINUSE[i] = 0 only in the
/// initial configuration, as 13.6 requires, and XSAVEOPT, XSAVEC and XSAVES leave out exactly the components in it.</para>
/// <para>XMODIFIED and XRSTOR_INFO: XRSTOR and XRSTORS record the 4-tuple (CPL, VMX non-root, linear address, XCOMP_BV)
/// and a copy of each component they loaded or initialized; components outside RFBM are tracked as modified. XMODIFIED[i]
/// is then 1 when the component differs from that copy, or when it was written to memory since (by XSAVEOPT or XSAVES,
/// which keep the bit set until the next XRSTOR, as the processor does). Any other image of the state written to memory
/// (FXSAVE, XSAVE, XSAVEC, FSAVE, FSTENV, or an XSAVEOPT/XSAVES whose tuple does not match) ends the tracking, so that
/// XSAVEOPT and XSAVES never leave out a component whose memory copy could be stale. The only case where a processor
/// that tracks every write would save where this one does not is a component changed and changed back while software
/// itself wrote the XSAVE area after XRSTOR, which the SDM's guidance for XSAVEOPT (13.9) excludes.</para>
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>State-component bits (SDM vol. 1, 13.1): x87 (0), SSE (1), AVX (2).</summary>
    public const ulong X87StateComponent = 1, SseStateComponent = 2, AvxStateComponent = 4;

    /// <summary>The components the last XRSTOR/XRSTORS loaded from its image and that no later XRSTOR initialized.</summary>
    private ulong _xinuseLoaded;

    private bool _xrstorInfoValid;
    private int _xrstorInfoCpl;
    private bool _xrstorInfoVmxNonRoot;
    private ulong _xrstorInfoAddress;
    private ulong _xrstorInfoCompactionMask;

    /// <summary>Components tracked as modified whatever their value: outside the last XRSTOR's RFBM, or saved since.</summary>
    private ulong _xmodifiedSticky;

    private readonly ExtendedReal[] _restoredFpuRegisters = new ExtendedReal[8];
    private ushort _restoredFpuControl, _restoredFpuStatus, _restoredFpuOpcode, _restoredFpuInstructionSelector, _restoredFpuDataSelector;
    private byte _restoredFpuAbridgedTag;
    private ulong _restoredFpuInstructionPointer, _restoredFpuDataPointer;
    private uint _restoredMxcsr;
    private readonly byte[] _restoredVectorRegisters = new byte[VectorRegisterCount * VectorRegisterBytes];

    /// <summary>
    /// Whether the processor is in VMX non-root operation, the second element of XRSTOR_INFO (SDM vol. 1, 13.6). The VMX
    /// unit sets it at each VM entry and clears it at each VM exit.
    /// </summary>
    public bool InVmxNonRootOperation { get; set; }

    /// <summary>XINUSE (SDM vol. 1, 13.6) over the supported components; XGETBV with ECX = 1 returns XCR0 AND this.</summary>
    public ulong Xinuse => (_xinuseLoaded | ComponentsNotInInitialConfiguration()) & SupportedXcr0;

    /// <summary>
    /// The components whose state differs from its initial configuration (SDM vol. 1, 13.6): x87 with FCW 037FH, FSW 0,
    /// all tags empty, FOP, FIP, FDP, FCS, FDS and the eight data registers 0; SSE with XMM0–15 (XMM0–7 outside 64-bit
    /// mode) 0, MXCSR not included; AVX with the upper halves of YMM0–15 (YMM0–7 outside 64-bit mode) 0.
    /// </summary>
    private ulong ComponentsNotInInitialConfiguration()
    {
        ulong bits = 0;
        var x87Initial = _fpuControl == 0x037F && _fpuStatus == 0 && _fpuAbridgedTag == 0 && _fpuOpcode == 0
            && _fpuInstructionPointer == 0 && _fpuDataPointer == 0 && _fpuInstructionSelector == 0 && _fpuDataSelector == 0;
        for (var i = 0; i < 8 && x87Initial; i++) x87Initial = _fpuRegisters[i].Equals(default);
        if (!x87Initial) bits |= X87StateComponent;
        for (var i = 0; i < SavedXmmRegisters; i++)
        {
            var r = VectorRegister(i);
            if (r[..16].IndexOfAnyExcept((byte)0) >= 0) bits |= SseStateComponent;
            if (r[16..].IndexOfAnyExcept((byte)0) >= 0) bits |= AvxStateComponent;
        }
        return bits;
    }

    /// <summary>XRSTOR_INFO and the copy behind XMODIFIED after an XRSTOR or XRSTORS with <paramref name="rfbm"/> (SDM vol. 1, 13.8.3).</summary>
    private void RecordRestore(ulong rfbm, ulong linear, ulong compactionMask)
    {
        _xrstorInfoValid = true;
        _xrstorInfoCpl = Cpl;
        _xrstorInfoVmxNonRoot = InVmxNonRootOperation;
        _xrstorInfoAddress = linear;
        _xrstorInfoCompactionMask = compactionMask;
        _xmodifiedSticky = ~rfbm;
        _fpuRegisters.CopyTo(_restoredFpuRegisters, 0);
        _restoredFpuControl = _fpuControl;
        _restoredFpuStatus = _fpuStatus;
        _restoredFpuAbridgedTag = _fpuAbridgedTag;
        _restoredFpuOpcode = _fpuOpcode;
        _restoredFpuInstructionPointer = _fpuInstructionPointer;
        _restoredFpuInstructionSelector = _fpuInstructionSelector;
        _restoredFpuDataPointer = _fpuDataPointer;
        _restoredFpuDataSelector = _fpuDataSelector;
        _restoredMxcsr = _mxcsr;
        new ReadOnlySpan<byte>(_vectorRegisters, _restoredVectorRegisters.Length).CopyTo(_restoredVectorRegisters);
    }

    /// <summary>Whether XRSTOR_INFO equals the tuple of this XSAVEOPT (<paramref name="compactionMask"/> 0) or XSAVES.</summary>
    private bool RestoreInfoMatches(ulong linear, ulong compactionMask) =>
        _xrstorInfoValid && _xrstorInfoCpl == Cpl && _xrstorInfoVmxNonRoot == InVmxNonRootOperation
        && _xrstorInfoAddress == linear && _xrstorInfoCompactionMask == compactionMask;

    /// <summary>XMODIFIED: the components changed since the last XRSTOR or tracked as modified.</summary>
    private ulong Xmodified()
    {
        var bits = _xmodifiedSticky;
        var x87Same = _fpuControl == _restoredFpuControl && _fpuStatus == _restoredFpuStatus && _fpuAbridgedTag == _restoredFpuAbridgedTag
            && _fpuOpcode == _restoredFpuOpcode && _fpuInstructionPointer == _restoredFpuInstructionPointer
            && _fpuInstructionSelector == _restoredFpuInstructionSelector && _fpuDataPointer == _restoredFpuDataPointer
            && _fpuDataSelector == _restoredFpuDataSelector && _fpuRegisters.AsSpan().SequenceEqual(_restoredFpuRegisters);
        if (!x87Same) bits |= X87StateComponent;
        if (_mxcsr != _restoredMxcsr) bits |= SseStateComponent;
        for (var i = 0; i < VectorRegisterCount; i++)
        {
            var now = VectorRegister(i);
            var then = _restoredVectorRegisters.AsSpan(i * VectorRegisterBytes, VectorRegisterBytes);
            if (!now[..16].SequenceEqual(then[..16])) bits |= SseStateComponent;
            if (!now[16..].SequenceEqual(then[16..])) bits |= AvxStateComponent;
        }
        return bits;
    }

    /// <summary>An XSAVEOPT or XSAVES that matched XRSTOR_INFO wrote <paramref name="components"/>: tracked as modified until the next XRSTOR.</summary>
    private void NoteComponentsSaved(ulong components) => _xmodifiedSticky |= components;

    /// <summary>
    /// Makes XRSTOR_INFO match no later XSAVEOPT or XSAVES, so that they save in full until the next XRSTOR: for events the
    /// SDM's 4-tuple does not tell apart: an SVM world switch (guest and host may use the same CPL and linear address), or
    /// host software (a kernel model) switching the register state of one guest for another's.
    /// </summary>
    public void ResetXrstorInfo() => _xrstorInfoValid = false;

    /// <summary>An image of the state went to memory outside the modified optimization: XSAVEOPT and XSAVES save in full until the next XRSTOR.</summary>
    private void NoteStateImageWritten() => _xrstorInfoValid = false;

    /// <summary>RESET and INIT: no component loaded, XRSTOR_INFO matching nothing.</summary>
    private void ResetXsaveTracking()
    {
        _xinuseLoaded = 0;
        _xrstorInfoValid = false;
    }
}
