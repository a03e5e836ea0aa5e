using System.Diagnostics;
using Sim.Cpu;
using Sim.Images.Guests;
using Sim.Platform;

namespace Sim.Differential.Tests;

/// <summary>Boots a probe guest from its floppy on sim and on Bochs at once and parses both outputs.</summary>
public static class ProbeRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public sealed record Result(ProbeOutput Sim, ProbeOutput Bochs, string SimRun, string BochsRun, TimeSpan Elapsed);

    public static Result Run(BuiltInGuest guest, CpuVendor vendor, string bochsModel)
    {
        var clock = Stopwatch.StartNew();
        var floppy = guest.ToFloppy();
        var bochsRun = Task.Run(() => BochsRunner.RunFloppy(floppy, bochsModel, Timeout));
        var debug = new CapturedOutput();
        RunResult sim;
        using (var machine = new Machine(new MachineConfig { Vendor = vendor, Console = Stream.Null, DebugConsole = debug, MaxInstructions = 2_000_000_000 }))
        {
            machine.Load(guest.ToFloppyBootImage());
            sim = machine.Run();
        }
        var bochs = bochsRun.Result;
        return new Result(ProbeOutput.Parse(debug.ToString()), ProbeOutput.Parse(BochsRunner.DebugPortText(bochs.Stdout)), sim.ToString(), bochs.Diagnostics, clock.Elapsed);
    }
}
