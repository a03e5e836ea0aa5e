using BenchmarkDotNet.Attributes;

namespace Sim.Benchmarks;

/// <summary>VM exit + VM entry round trips of a CPUID loop handled by host code in C# (<see cref="VmExitWorkload"/>).</summary>
[MemoryDiagnoser]
public class VmExitBenchmarks
{
    public const int RoundTrips = 100_000;
    private VmExitWorkload _workload = null!;

    [GlobalSetup]
    public void Setup() => _workload = new VmExitWorkload();

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public ulong CpuidRoundTrip() => _workload.RoundTrips(RoundTrips);
}
