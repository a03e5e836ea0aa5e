using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using Sim.Benchmarks;

// Quick measurements in one process without BenchmarkDotNet, in processor time of this process
// (not wall time), so that other load on the machine distorts less:
//   "mips [seconds]"     guest instructions per second in each mode, of an x87 loop, and of an SSE2 and an AVX2 loop
//                        in 64-bit mode (the AVX2 one where the processor announces AVX2 and FMA);
//   "vmexits [seconds]"  VM exit + entry round trips per second of a CPUID loop, VT-x and AMD-V, on the bare units and
//                        through NOVA, Genode's VM library and a VMM handler (with the bytes allocated per round trip and
//                        the modelled cycles of one by phase);
//   "exceptions [seconds]" guest instructions and events per second of loops that take an exception
//                        or interrupt every turn, in each mode (and #UD with the stack on the code's page).
// Anything else goes to BenchmarkDotNet.
var mode = args.Length > 0 ? args[0] : "";
var seconds = mode is "mips" or "vmexits" or "exceptions" && args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3;
if (mode == "mips")
{
    foreach (var bitness in new[] { 16, 32, 64 })
    {
        using var w = InterpreterWorkload.Create(bitness);
        Report($"{bitness}-bit", w, 20_000_000, 10_000_000);
    }
    using (var w = X87Workload.Create()) Report("x87 loop", w, 5_000_000, 5_000_000);
    using (var w = Sse2Workload.Create()) Report("64-bit SSE2 loop", w, 5_000_000, 5_000_000);
    using (var w = Avx2Workload.Create())
    {
        if (Avx2Workload.IsAnnounced(w)) Report("64-bit AVX2 loop", w, 5_000_000, 5_000_000);
        else Console.WriteLine("64-bit AVX2 loop: not run, the processor does not announce AVX2 and FMA");
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
    foreach (var vendor in new[] { Sim.Cpu.CpuVendor.Intel, Sim.Cpu.CpuVendor.Amd })
    {
        using var w = new NovaCpuidWorkload(vendor);
        w.RoundTrips(100_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        w.RoundTrips(10_000);
        var perExit = (GC.GetAllocatedBytesForCurrentThread() - allocated) / 10_000.0;
        var (total, cpu, _) = Measure(() => w.RoundTrips(100_000), seconds);
        var name = vendor == Sim.Cpu.CpuVendor.Intel ? "VT-x" : "AMD-V";
        Console.WriteLine($"NOVA + Genode library + VMM handler, {name}: {total / cpu:F0} round trips/s ({total} in {cpu:F2} s of processor time, {perExit:F1} bytes allocated per round trip)");
        var p = w.Phases(10_000);
        Console.WriteLine($"  modelled cycles per round trip: {p.Total:F0} = hardware exit {p.HardwareExit:F0} + kernel {p.Kernel:F0} + UTCB transfer {p.UtcbTransfer:F0} + handler {p.Handler:F0} + reply (IPC, UTCB back) {p.Reply:F0} + entry {p.Entry:F0} + guest {p.Guest:F0}");
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

// Warms the loop up (the tiered JIT), then measures it for the requested time.
void Report(string name, GuestLoop loop, ulong warmUp, ulong step)
{
    loop.Start();
    loop.Run(warmUp);
    var (total, cpu, wall) = Measure(() => loop.Run(step), seconds);
    Console.WriteLine($"{name}: {total / cpu / 1e6:F1} MIPS ({total} instructions in {cpu:F2} s of processor time, {wall:F2} s wall)");
}

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
