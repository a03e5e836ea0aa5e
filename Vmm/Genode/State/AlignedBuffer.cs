using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sim.Vmm.Genode;

/// <summary>A fixed-size byte buffer whose first byte is aligned as FXSAVE/XSAVE images require; pinned so the alignment holds.</summary>
internal sealed class AlignedBuffer
{
    private readonly byte[] _raw;
    private readonly int _offset;

    public AlignedBuffer(int size, int alignment)
    {
        _raw = GC.AllocateArray<byte>(size + alignment - 1, pinned: true);
        _offset = (int)((uint)(alignment - (int)(Address(_raw) % (nuint)alignment)) % (uint)alignment);
        Size = size;
    }

    public int Size { get; }

    public Span<byte> Span => _raw.AsSpan(_offset, Size);

    internal nuint FirstByteAddress => Address(_raw) + (nuint)_offset;

    private static unsafe nuint Address(byte[] array) =>
        (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
}
