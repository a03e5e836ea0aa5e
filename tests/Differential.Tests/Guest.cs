namespace Sim.Differential.Tests;

/// <summary>A Multiboot (a.out kludge) kernel image that runs a list of cases in one mode.</summary>
public sealed class Guest
{
    public required GuestMode Mode { get; init; }
    public required byte[] Image { get; init; }
    public required uint EntryPoint { get; init; }
    public required IReadOnlyList<TestCase> Cases { get; init; }

    public int RecordBytes => (DataLayout.RecordHeaderSlots + Mode.RegisterCount()) * Mode.SlotBytes();
}
