using BenchmarkDotNet.Attributes;

namespace Sim.Benchmarks;

/// <summary>SVM #VMEXIT + VMRUN round trips for a CPUID loop: each operation is one round trip.</summary>
[MemoryDiagnoser]
public class SvmRoundTripBenchmarks
{
    public const int RoundTrips = 100_000;
    private SvmRoundTripWorkload _workload = null!;

    [Params(SvmRoundTripWorkload.Host.Api, SvmRoundTripWorkload.Host.GuestCode)]
    public SvmRoundTripWorkload.Host Host { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _workload = new SvmRoundTripWorkload(Host);
        _workload.Run(1000);
    }

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public ulong RoundTrip() => _workload.Run(RoundTrips);
}
