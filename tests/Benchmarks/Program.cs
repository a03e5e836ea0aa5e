using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using Sim.Benchmarks;

// Quick measurements in one process without BenchmarkDotNet, in processor time of this process
// (not wall time), so that other load on the machine distorts less:
//   "mips [seconds]"     guest instructions per second in each mode, of an x87 loop and of an SSE2 loop in 64-bit mode;
//   "vmexits [seconds]"  VM exit + entry round trips per second of a CPUID loop, VT-x and AMD-V;
//   "exceptions [seconds]" guest instructions and events per second of loops that take an exception
//                        or interrupt every turn, in each mode (and #UD with the stack on the code's page).
// Anything else goes to BenchmarkDotNet.
var mode = args.Length > 0 ? args[0] : "";
var seconds = mode is "mips" or "vmexits" or "exceptions" && args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3;
if (mode == "mips")
{
    foreach (var bitness in new[] { 16, 32, 64 })
    {
        using var w = new InterpreterWorkload(bitness);
        w.Start();
        w.Run(20_000_000);
        var (total, cpu, wall) = Measure(() => w.Run(10_000_000), seconds);
        Console.WriteLine($"{bitness}-bit: {total / cpu / 1e6:F1} MIPS ({total} instructions in {cpu:F2} s of processor time, {wall:F2} s wall)");
    }
    using (var x87 = new X87Workload())
    {
        x87.Start();
        x87.Run(5_000_000);
        var (total, cpu, wall) = Measure(() => x87.Run(5_000_000), seconds);
        Console.WriteLine($"x87 loop: {total / cpu / 1e6:F1} MIPS ({total} instructions in {cpu:F2} s of processor time, {wall:F2} s wall)");
    }
    using (var w = new Sse2Workload())
    {
        w.Start();
        w.Run(5_000_000);
        var (total, cpu, wall) = Measure(() => w.Run(5_000_000), seconds);
        Console.WriteLine($"64-bit SSE2 loop: {total / cpu / 1e6:F1} MIPS ({total} instructions in {cpu:F2} s of processor time, {wall:F2} s wall)");
    }
    return;
}
if (mode == "vmexits")
{
    using (var w = new VmxRoundTripWorkload())
    {
        w.RoundTrips(100_000);
        var (total, cpu, _) = Measure(() => w.RoundTrips(100_000), seconds);
        Console.WriteLine($"VT-x, C# host: {total / cpu:F0} round trips/s ({total} in {cpu:F2} s of processor time)");
    }
    foreach (var host in new[] { SvmRoundTripWorkload.Host.Api, SvmRoundTripWorkload.Host.GuestCode })
    {
        using var w = new SvmRoundTripWorkload(host);
        w.Run(10_000);
        var (total, cpu, _) = Measure(() => w.Run(100_000), seconds);
        var name = host == SvmRoundTripWorkload.Host.Api ? "C# host" : "host code executing VMRUN";
        Console.WriteLine($"AMD-V, {name}: {total / cpu:F0} round trips/s ({total} in {cpu:F2} s of processor time), last exit {w.LastExitCode:x}");
    }
    return;
}
if (mode == "exceptions")
{
    const int events = 10_000;
    foreach (var c in ExceptionBenchmarks.Cases())
    {
        using var w = new ExceptionWorkload(c.Bitness, c.Kind, c.StackOnCodePage);
        // Long enough for the tiered JIT to have compiled the delivery path fully.
        Measure(() => w.Run(events), 0.25);
        ulong delivered = 0;
        var (total, cpu, _) = Measure(() =>
        {
            delivered += events;
            return w.Run(events);
        }, seconds / 4);
        Console.WriteLine($"{c}: {total / cpu / 1e6:F1} MIPS, {delivered / cpu / 1e6:F2} M events/s ({total} instructions in {cpu:F2} s of processor time)");
    }
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(InterpreterBenchmarks).Assembly).Run(args);

static (ulong Total, double ProcessorSeconds, double WallSeconds) Measure(Func<ulong> run, double seconds)
{
    var process = Process.GetCurrentProcess();
    var cpuStart = process.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    ulong total = 0;
    while (sw.Elapsed.TotalSeconds < seconds) total += run();
    process.Refresh();
    return (total, (process.TotalProcessorTime - cpuStart).TotalSeconds, sw.Elapsed.TotalSeconds);
}
