using Microsoft.Extensions.DependencyInjection;
using Sim.Platform;
using Sim.Vmm.Genode;
using Sim.Vmm.Toy;

namespace Sim.Cli;

/// <summary>
/// A VMM on a kernel model: the services composed from <see cref="KernelCatalog"/> by name, the VMM
/// launched as a component whose log lines go to <paramref name="log"/> as they are written (Genode's
/// LOG), and the run ending when the VMM is done or any line contains "Error", as Genode's run script judges.
/// </summary>
public sealed class KernelRun(Machine machine, RunSettings settings, TextWriter log) : IDisposable
{
    public const int ErrorExitCode = 1;

    private ServiceProvider? _services;

    public string Description => $"{settings.Vmm} vmm ({(settings.Variant == ToyVariant.Genode1905 ? "2019" : "current")}) on the {settings.Kernel} kernel";

    /// <summary>Composes the services and launches the VMM.</summary>
    public void Launch()
    {
        var kernel = KernelCatalog.Kernels[settings.Kernel!];
        var vmm = KernelCatalog.Vmms[settings.Vmm!];
        _services = vmm.Register(kernel.Register(new ServiceCollection(), machine), settings).BuildServiceProvider();
        try
        {
            vmm.WhenDone(_services, (code, message) => machine.Control.RequestExit(RunOutcome.Finished, code, message));
            kernel.Launch(_services, _services.GetRequiredService<IComponent>(), settings.Vmm!, Log);
        }
        catch (ArgumentException e)
        {
            throw new UserInputException($"--memory {Size(settings.MemoryBytes)} is too small for the {settings.Kernel} kernel: {e.Message}");
        }
    }

    private static string Size(ulong bytes) => bytes % (1UL << 20) == 0 ? $"{bytes >> 20}M" : $"{bytes >> 10}K";

    private void Log(string line)
    {
        log.WriteLine(line);
        if (line.Contains("Error", StringComparison.Ordinal))
            machine.Control.RequestExit(RunOutcome.Finished, ErrorExitCode, $"the VMM logged an error line: {line}");
    }

    public void Dispose() => _services?.Dispose();
}
