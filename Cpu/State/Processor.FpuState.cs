using System.Runtime.InteropServices;
using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// The x87 FPU, MMX and SSE/AVX register state (SDM vol. 1, 8.1, 9.2, 10.2, 14.1; vol. 1, 13 for the
/// XSAVE-managed state). The x87 data registers are physical registers R0–R7; ST(i) is
/// R[(TOP + i) mod 8] with TOP in FSW[13:11], and MMX register i aliases the significand of Ri.
/// The tag word is kept abridged, as FXSAVE stores it (bit i set: Ri is not empty); the full tag of
/// FSTENV/FSAVE follows from it and the registers' contents. The vector registers are sixteen 256-bit
/// YMM registers whose low halves are XMM0–15, in native memory so that handlers load and store them
/// with System.Runtime.Intrinsics without bounds checks.
/// </summary>
public sealed unsafe partial class Processor
{
    public const int VectorRegisterCount = 16;
    public const int VectorRegisterBytes = 32;

    private readonly ExtendedReal[] _fpuRegisters = new ExtendedReal[8];
    private ushort _fpuControl;
    private ushort _fpuStatus;
    private byte _fpuAbridgedTag;
    private ushort _fpuOpcode;
    private ulong _fpuInstructionPointer;
    private ushort _fpuInstructionSelector;
    private ulong _fpuDataPointer;
    private ushort _fpuDataSelector;

    /// <summary>YMM0–15, 32 bytes each, XMMi in the low 16 bytes of YMMi.</summary>
    private readonly byte* _vectorRegisters = (byte*)NativeMemory.AllocZeroed(VectorRegisterCount * VectorRegisterBytes);
    private uint _mxcsr;

    /// <summary>
    /// The power-up state of the x87 and SSE units (SDM vol. 3, table 9-1): FCW 0040h, FSW 0, all
    /// tags valid with +0.0 in every data register, pointers and opcode 0, XMM0–15 zero, MXCSR 1F80h.
    /// INIT leaves all of it unchanged.
    /// </summary>
    private void ResetFpuState()
    {
        Array.Clear(_fpuRegisters);
        _fpuControl = 0x0040;
        _fpuStatus = 0;
        _fpuAbridgedTag = 0xFF;
        _fpuOpcode = 0;
        _fpuInstructionPointer = _fpuDataPointer = 0;
        _fpuInstructionSelector = _fpuDataSelector = 0;
        NativeMemory.Clear(_vectorRegisters, VectorRegisterCount * VectorRegisterBytes);
        _mxcsr = 0x1F80;
        Xcr0 = 1;
    }

    /// <summary>The FPU control word (FCW).</summary>
    public ushort FpuControlWord { get => _fpuControl; set => _fpuControl = value; }

    /// <summary>The FPU status word (FSW), TOP included.</summary>
    public ushort FpuStatusWord { get => _fpuStatus; set => _fpuStatus = value; }

    /// <summary>The abridged tag word as FXSAVE stores it: bit i set when physical register Ri is not empty.</summary>
    public byte FpuAbridgedTagWord { get => _fpuAbridgedTag; set => _fpuAbridgedTag = value; }

    /// <summary>Physical x87 data register R<paramref name="index"/> (not ST(i)).</summary>
    public ExtendedReal GetFpuRegister(int index) => _fpuRegisters[index];

    public void SetFpuRegister(int index, ExtendedReal value) => _fpuRegisters[index] = value;

    /// <summary>The last non-control x87 instruction's opcode (11 bits), instruction pointer and data pointer with their selectors (SDM vol. 1, 8.1.8–8.1.10).</summary>
    public ushort FpuOpcode { get => _fpuOpcode; set => _fpuOpcode = value; }

    public ulong FpuInstructionPointer { get => _fpuInstructionPointer; set => _fpuInstructionPointer = value; }

    public ushort FpuInstructionSelector { get => _fpuInstructionSelector; set => _fpuInstructionSelector = value; }

    public ulong FpuDataPointer { get => _fpuDataPointer; set => _fpuDataPointer = value; }

    public ushort FpuDataSelector { get => _fpuDataSelector; set => _fpuDataSelector = value; }

    public uint Mxcsr { get => _mxcsr; set => _mxcsr = value; }

    /// <summary>The 32 bytes of YMM<paramref name="index"/> (XMM<paramref name="index"/> is the first 16).</summary>
    public Span<byte> VectorRegister(int index) => new(_vectorRegisters + index * VectorRegisterBytes, VectorRegisterBytes);
}
