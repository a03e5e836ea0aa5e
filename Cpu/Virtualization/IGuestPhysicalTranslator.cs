namespace Sim.Cpu.Virtualization;

/// <summary>
/// Second-level address translation (EPT, nested paging). While attached, every physical address
/// the processor produces is guest-physical and is translated here before memory is touched:
/// paging-structure entries, PDPTE loads and final addresses, and all addresses while paging is off.
/// </summary>
public interface IGuestPhysicalTranslator
{
    /// <summary>
    /// Translates <paramref name="guestPhysical"/> for <paramref name="access"/>. False when the
    /// access is refused; the unit then keeps what it needs for the exit, the processor abandons
    /// the instruction and calls <see cref="InterceptKind.SecondLevelFault"/> at the boundary.
    /// <paramref name="linear"/> is the linear address being translated when
    /// <see cref="GuestPhysicalAccess.LinearValid"/> is set.
    /// </summary>
    bool Translate(Processor cpu, ulong guestPhysical, GuestPhysicalAccess access, ulong linear, out ulong hostPhysical);
}
