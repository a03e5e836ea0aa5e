namespace Sim.Differential.Tests;

/// <summary>
/// Descriptors every guest's GDT holds beyond the flat ones, for the segment-limit and
/// access-rights cases (32-bit protected mode). FS-style segments are based at the scratch area so
/// that offsets within them are scratch offsets; SS-style ones are based at 0 and leave room for
/// the case stack and the handler stack, so that an exception can still be delivered on them.
/// </summary>
public static class TestSegments
{
    /// <summary>Read/write data, base scratch, limit 1FFh (byte granular).</summary>
    public const ushort Small = 0x38;

    /// <summary>Read-only data, base scratch, limit 1FFh.</summary>
    public const ushort ReadOnly = 0x40;

    /// <summary>Expand-down read/write data, base scratch, limit 7Fh, B=0: offsets 80h..FFFFh are valid.</summary>
    public const ushort ExpandDown16 = 0x48;

    /// <summary>Read/write data, base 0, limit just below the handler stack's top: the stack segment whose upper limit cases cross.</summary>
    public const ushort StackSmall = 0x50;

    /// <summary>Expand-down read/write data, base 0, B=1, limit just below the scratch area: the stack segment whose lower limit cases cross.</summary>
    public const ushort StackExpandDown = 0x58;

    /// <summary>Expand-down read/write data, base scratch, limit 7Fh, B=1.</summary>
    public const ushort ExpandDown32 = 0x60;

    /// <summary>Read/write data, base <see cref="DataLayout.DataBase"/>, limit FFFFFh, B=1: the 32-bit twin of the 16-bit data window, for stack-size changes in 16-bit code.</summary>
    public const ushort Stack32Window = 0x68;

    public const uint ScratchLimit = DataLayout.ScratchSize - 1;
    public const uint ExpandDownLimit = 0x7F;
    public const uint StackSmallLimit = DataLayout.DataBase + DataLayout.HandlerStackTop - 1;
    public const uint StackExpandDownLimit = DataLayout.DataBase + DataLayout.Scratch - 1;

    /// <summary>GDT limit covering the flat descriptors and these.</summary>
    public const ushort GdtLimit = 0x6F;

    /// <summary>(selector, base, limit, access byte, flags nibble).</summary>
    public static readonly (ushort Selector, uint Base, uint Limit, byte Access, byte Flags)[] All =
    [
        (Small, DataLayout.DataBase + DataLayout.Scratch, ScratchLimit, 0x93, 0x4),
        (ReadOnly, DataLayout.DataBase + DataLayout.Scratch, ScratchLimit, 0x91, 0x4),
        (ExpandDown16, DataLayout.DataBase + DataLayout.Scratch, ExpandDownLimit, 0x97, 0x0),
        (StackSmall, 0, StackSmallLimit, 0x93, 0x4),
        (StackExpandDown, 0, StackExpandDownLimit, 0x97, 0x4),
        (ExpandDown32, DataLayout.DataBase + DataLayout.Scratch, ExpandDownLimit, 0x97, 0x4),
        (Stack32Window, DataLayout.DataBase, 0xFFFFF, 0x93, 0x4),
    ];
}
