namespace Sim.Vmm.Genode;

public sealed partial class VmState
{
    /// <summary>Genode 19.05 <c>Vm_state::Fpu</c>: a 512-byte FXSAVE image, 16-byte aligned, with a valid flag.</summary>
    public sealed class FpuBuffer
    {
        public const int Size = 512;

        private readonly AlignedBuffer _buffer = new(Size, 16);

        public bool Valid { get; private set; }

        public void Invalidate() => Valid = false;

        /// <summary>Genode's <c>value(fn)</c>: marks the image valid and lets <paramref name="fn"/> fill or read it.</summary>
        public void Value(FpuBufferAction fn)
        {
            Valid = true;
            fn(_buffer.Span);
        }

        /// <summary>The image without touching the valid flag, for a backend writing it back on entry.</summary>
        public ReadOnlySpan<byte> Bytes => _buffer.Span;
    }
}
