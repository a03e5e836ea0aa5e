using Sim.Cpu.Bus;

namespace Sim.Vmx.Tests;

/// <summary>An interrupt line with one pending vector, acknowledged once.</summary>
internal sealed class FakeInterruptController : IInterruptSource
{
    public int Vector { get; set; } = -1;
    public int Acknowledged { get; private set; }

    public bool InterruptPending => Vector >= 0;

    public byte Acknowledge()
    {
        var v = (byte)Vector;
        Vector = -1;
        Acknowledged++;
        return v;
    }
}
