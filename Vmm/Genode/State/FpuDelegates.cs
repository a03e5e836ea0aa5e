namespace Sim.Vmm.Genode;

/// <summary>Fills or inspects the 512-byte FXSAVE image of <see cref="VmState"/> (Genode 19.05 <c>Fpu::value(fn)</c>).</summary>
public delegate void FpuBufferAction(Span<byte> buffer);

/// <summary>Writes the XSAVE image of <see cref="VcpuState"/> and returns how many bytes of it are meaningful.</summary>
public delegate int FpuStateWriter(Span<byte> state);

/// <summary>Reads the XSAVE image of <see cref="VcpuState"/>.</summary>
public delegate void FpuStateReader(ReadOnlySpan<byte> state);
