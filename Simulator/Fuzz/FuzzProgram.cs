using Sim.Cpu;
using Sim.Images;

namespace Sim.Fuzz;

/// <summary>
/// What a case generator produces: the machine to build and either a ready <see cref="BootImage"/>
/// or image bytes for <see cref="ImageLoader"/>.
/// </summary>
public sealed record FuzzProgram
{
    public required string Description { get; init; }

    public CpuVendor Vendor { get; init; } = CpuVendor.Intel;

    public ulong MemoryBytes { get; init; } = FuzzLayout.DefaultMemory;

    public BootImage? Image { get; init; }

    public byte[]? ImageBytes { get; init; }

    public ImageLoadOptions? LoadOptions { get; init; }
}
