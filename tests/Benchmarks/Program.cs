using System.Diagnostics;
using BenchmarkDotNet.Running;
using Sim.Benchmarks;

// "mips [seconds]" measures MIPS per mode in one process without BenchmarkDotNet; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "mips")
{
    var seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
    foreach (var bitness in new[] { 16, 32, 64 })
    {
        using var w = new InterpreterWorkload(bitness);
        w.Start();
        w.Run(20_000_000);
        // Processor time of this process, not wall time, so that other load on the machine distorts less.
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        ulong total = 0;
        while (sw.Elapsed.TotalSeconds < seconds) total += w.Run(10_000_000);
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        Console.WriteLine($"{bitness}-bit: {total / cpu / 1e6:F1} MIPS ({total} instructions in {cpu:F2} s of processor time, {sw.Elapsed.TotalSeconds:F2} s wall)");
    }
    return;
}
// "svm [seconds]" measures SVM round trips per second for both hosts in one process.
if (args.Length > 0 && args[0] == "svm")
{
    var seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
    foreach (var host in new[] { SvmRoundTripWorkload.Host.Api, SvmRoundTripWorkload.Host.GuestCode })
    {
        using var w = new SvmRoundTripWorkload(host);
        w.Run(10_000);
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        ulong total = 0;
        while (sw.Elapsed.TotalSeconds < seconds) total += w.Run(100_000);
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        Console.WriteLine($"{host}: {total / cpu:F0} round trips/s ({total} in {cpu:F2} s of processor time), last exit {w.LastExitCode:x}");
    }
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(InterpreterBenchmarks).Assembly).Run(args);
