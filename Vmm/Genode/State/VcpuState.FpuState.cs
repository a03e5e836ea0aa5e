namespace Sim.Vmm.Genode;

public sealed partial class VcpuState
{
    /// <summary>
    /// Genode <c>Vcpu_state::Fpu</c>: a 2560-byte, 64-byte aligned buffer holding an XSAVE image (legacy
    /// FXSAVE region at 0, XSAVE header at 512, extended components after it), its charged flag and the
    /// number of meaningful bytes the last writer reported.
    /// </summary>
    public sealed class FpuState
    {
        public const int StateSize = 2560;

        public const int Alignment = 64;

        private readonly AlignedBuffer _buffer = new(StateSize, Alignment);

        public bool Charged { get; private set; }

        /// <summary>Bytes of the image the last <see cref="Charge"/> reported as meaningful.</summary>
        public int Size { get; private set; }

        /// <summary>Charges the FPU; <paramref name="fn"/> writes the image and returns its meaningful size.</summary>
        public void Charge(FpuStateWriter fn)
        {
            Charged = true;
            Size = Math.Clamp(fn(_buffer.Span), 0, StateSize);
        }

        public void WithState(FpuStateReader fn) => fn(_buffer.Span);

        /// <summary>Charges without changing the image (for backends).</summary>
        public void SetCharged() => Charged = true;

        internal void Discharge() => Charged = false;

        internal nuint Address => _buffer.FirstByteAddress;
    }
}
