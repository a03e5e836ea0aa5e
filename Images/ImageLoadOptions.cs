namespace Sim.Images;

/// <summary>How to load an image.</summary>
/// <param name="LoadAddress">Where a raw image goes; required for raw images.</param>
/// <param name="MemorySize">Guest RAM size in bytes; everything loaded must fit below it.</param>
/// <param name="CommandLine">The Multiboot kernel command line; cmdline holds the image name followed by it, as GRUB and QEMU pass it.</param>
/// <param name="Modules">Multiboot modules, each "path [arguments]".</param>
/// <param name="Format">The format, or Auto to detect it.</param>
public sealed record ImageLoadOptions(
    ulong? LoadAddress = null,
    ulong MemorySize = 64UL << 20,
    string CommandLine = "",
    IReadOnlyList<string>? Modules = null,
    ImageFormat Format = ImageFormat.Auto)
{
    /// <summary>The file a module specification names: its first word; null if it is blank.</summary>
    public static string? ModulePath(string module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.Trim().Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
    }
}
