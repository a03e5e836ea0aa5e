using Sim.Cpu.Bus;

namespace Sim.TestSupport;

/// <summary>An INTR line held by a test: one pending vector, acknowledged once.</summary>
internal sealed class TestInterruptSource : IInterruptSource
{
    public int? Vector { get; set; }

    public int Acknowledged { get; private set; }

    public bool InterruptPending => Vector.HasValue;

    public byte Acknowledge()
    {
        var v = (byte)Vector!.Value;
        Vector = null;
        Acknowledged++;
        return v;
    }
}
