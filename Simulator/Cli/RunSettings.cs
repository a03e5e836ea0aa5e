using Sim.Cpu;
using Sim.Cpu.Timing;
using Sim.Images;
using Sim.Vmm.Toy;

namespace Sim.Cli;

/// <summary>The options of `sim run`, parsed.</summary>
public sealed record RunSettings
{
    public string? ImagePath { get; init; }
    public string? Guest { get; init; }

    /// <summary>A firmware ROM that boots the machine instead of sim's firmware; it takes no image or guest.</summary>
    public string? BiosPath { get; init; }

    public FeatureControlSetting FeatureControl { get; init; } = FeatureControlSetting.Locked;
    public uint? Iterations { get; init; }
    public bool Floppy { get; init; }
    public int Cpus { get; init; } = 1;
    public CpuVendor Vendor { get; init; } = CpuVendor.Intel;
    public ulong MemoryBytes { get; init; } = 64UL << 20;
    public ulong? MaxInstructions { get; init; }
    public bool Stats { get; init; }
    public ImageFormat Format { get; init; } = ImageFormat.Auto;
    public ulong? LoadAddress { get; init; }
    public string CommandLine { get; init; } = "";
    public IReadOnlyList<string> Modules { get; init; } = [];
    public string Serial { get; init; } = "stdout";
    public string DebugConsole { get; init; } = "none";

    /// <summary>The modeled cycle costs: the published defaults, or those of the --costs file over them.</summary>
    public CostModel Costs { get; init; } = CostModel.Default;

    /// <summary>The kernel model a VMM runs on instead of a guest (<see cref="KernelCatalog.Kernels"/>); set together with <see cref="Vmm"/>.</summary>
    public string? Kernel { get; init; }

    /// <summary>The VMM to run on <see cref="Kernel"/> (<see cref="KernelCatalog.Vmms"/>).</summary>
    public string? Vmm { get; init; }

    /// <summary>Which version of Genode's VMM test the toy VMM reproduces.</summary>
    public ToyVariant Variant { get; init; } = ToyVariant.Current;
}
