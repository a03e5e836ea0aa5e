using BenchmarkDotNet.Attributes;

namespace Sim.Benchmarks;

/// <summary>VM exit + VM entry round trips of a CPUID loop handled by host code in C# (<see cref="VmxRoundTripWorkload"/>).</summary>
[MemoryDiagnoser]
public class VmxRoundTripBenchmarks
{
    public const int RoundTrips = 100_000;
    private VmxRoundTripWorkload _workload = null!;

    [GlobalSetup]
    public void Setup() => _workload = new VmxRoundTripWorkload();

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public ulong CpuidRoundTrip() => _workload.RoundTrips(RoundTrips);
}
