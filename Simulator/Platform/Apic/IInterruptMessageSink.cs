namespace Sim.Platform.Apic;

/// <summary>Where interrupt messages go: the local APICs of the machine, which pick the targets.</summary>
public interface IInterruptMessageSink
{
    void Deliver(in InterruptMessage message);
}
