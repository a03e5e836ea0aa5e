namespace Sim.Platform.Apic;

/// <summary>
/// The system bus as interrupt messages travel it (SDM vol. 3, 11.6): it matches a message's
/// destination against every local APIC — physical by APIC ID, logical by each LDR in the flat or
/// cluster model, or x2APIC's cluster/bitmask form — and delivers it to each match, or, for
/// lowest-priority delivery, to the match with the lowest arbitration priority (the lowest APIC ID
/// on a tie, so that the choice is deterministic). I/O APICs hear the EOI broadcasts.
/// </summary>
public sealed class ApicBus : IInterruptMessageSink
{
    private readonly List<LocalApic> _apics = [];
    private readonly List<IEoiListener> _eoiListeners = [];

    public IReadOnlyList<LocalApic> Apics => _apics;

    internal void Attach(LocalApic apic) => _apics.Add(apic);

    public void AddEoiListener(IEoiListener listener) => _eoiListeners.Add(listener);

    /// <summary>A message from a device (an I/O APIC redirection entry, an MSI): 8-bit destinations, FFh broadcast.</summary>
    public void Deliver(in InterruptMessage message) => Deliver(message, null);

    /// <summary>A message from <paramref name="sender"/>'s ICR, or from a device when null.</summary>
    public void Deliver(in InterruptMessage message, LocalApic? sender)
    {
        var wide = sender is { X2ApicMode: true };
        var broadcast = message.Destination == 0xFFFF_FFFF || (!wide && message.Destination == 0xFF);
        if (message.Mode == DeliveryMode.LowestPriority)
        {
            LocalApic? chosen = null;
            foreach (var apic in _apics)
            {
                if (!apic.GloballyEnabled || !(broadcast || Matches(apic, message))) continue;
                if (chosen == null || apic.ArbitrationPriority < chosen.ArbitrationPriority) chosen = apic;
            }
            chosen?.Accept(message);
            return;
        }
        foreach (var apic in _apics)
        {
            if (apic.GloballyEnabled && (broadcast || Matches(apic, message))) apic.Accept(message);
        }
    }

    /// <summary>The ICR's "all including self" (<paramref name="except"/> null) and "all excluding self" shorthands.</summary>
    public void Broadcast(in InterruptMessage message, LocalApic? except)
    {
        if (message.Mode == DeliveryMode.LowestPriority)
        {
            LocalApic? chosen = null;
            foreach (var apic in _apics)
            {
                if (apic == except || !apic.GloballyEnabled) continue;
                if (chosen == null || apic.ArbitrationPriority < chosen.ArbitrationPriority) chosen = apic;
            }
            chosen?.Accept(message);
            return;
        }
        foreach (var apic in _apics)
        {
            if (apic != except && apic.GloballyEnabled) apic.Accept(message);
        }
    }

    public void BroadcastEoi(byte vector)
    {
        foreach (var listener in _eoiListeners) listener.EndOfInterrupt(vector);
    }

    private static bool Matches(LocalApic apic, in InterruptMessage message)
    {
        var destination = message.Destination;
        if (!message.LogicalDestination) return apic.Id == destination;
        var ldr = apic.LogicalId;
        if (apic.X2ApicMode) return (destination >> 16) == (ldr >> 16) && (destination & ldr & 0xFFFF) != 0;
        if (apic.FlatModel) return (destination & ldr & 0xFF) != 0;
        return (destination >> 4) == (ldr >> 4) && (destination & ldr & 0xF) != 0;
    }
}
