namespace Sim.Microkernels.Nova;

/// <summary>
/// The code at a portal's instruction pointer: it runs on the portal's (local) EC with the portal
/// id as its argument, its message in that EC's UTCB, and ends with the reply it returns.
/// </summary>
public delegate PortalReply PortalEntry(ulong portalId);

/// <summary>
/// How a portal handler replies: the UTCB's MTD word selects what is written back to a vCPU; a
/// semaphore selector (<see cref="BlockOn"/>) makes the caller block on that SM after the reply,
/// as Genode keeps a vCPU stopped.
/// </summary>
public readonly record struct PortalReply(ulong? Semaphore)
{
    public static PortalReply Resume => default;

    public static PortalReply BlockOn(ulong semaphoreSelector) => new(semaphoreSelector);
}
