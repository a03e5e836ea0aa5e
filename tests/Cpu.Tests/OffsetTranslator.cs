using Sim.Cpu.Virtualization;

namespace Sim.Cpu.Tests;

/// <summary>A second-level translation that adds a fixed offset and refuses one guest-physical page.</summary>
internal sealed class OffsetTranslator(ulong offset) : IGuestPhysicalTranslator
{
    public ulong Offset { get; set; } = offset;

    public ulong? RefusedPage { get; set; }

    public List<(ulong GuestPhysical, GuestPhysicalAccess Access, ulong Linear)> Refusals { get; } = new();

    public bool Translate(Processor cpu, ulong guestPhysical, GuestPhysicalAccess access, ulong linear, out ulong hostPhysical)
    {
        hostPhysical = guestPhysical + Offset;
        if (RefusedPage == (guestPhysical & ~0xFFFUL))
        {
            Refusals.Add((guestPhysical, access, linear));
            return false;
        }
        return true;
    }
}
