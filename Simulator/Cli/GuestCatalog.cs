using Sim.Images;
using Sim.Images.Guests;

namespace Sim.Cli;

/// <summary>The built-in guests, by the names the command line accepts.</summary>
public sealed class GuestCatalog
{
    public const string Default = "demo";

    public IReadOnlyList<string> Names { get; } = ["demo", "bench32", "bench64", "vmx", "svm", "smp"];

    public BuiltInGuest Create(string name, uint? iterations) => name switch
    {
        not ("bench32" or "bench64") when iterations != null && Names.Contains(name) =>
            throw new UserInputException("--iterations applies to the bench32 and bench64 guests only"),
        "demo" => new DemoGuest(),
        "bench32" => iterations is { } n ? new BenchmarkGuest(GuestMode.Protected32, n) : new BenchmarkGuest(GuestMode.Protected32),
        "bench64" => iterations is { } n ? new BenchmarkGuest(GuestMode.Long64, n) : new BenchmarkGuest(GuestMode.Long64),
        "vmx" => new VmxHypervisorGuest(),
        "svm" => new SvmHypervisorGuest(),
        "smp" => new SmpGuest(),
        _ => throw new UserInputException($"unknown built-in guest '{name}'; choose one of: {string.Join(", ", Names)}"),
    };
}
