using BenchmarkDotNet.Attributes;
using Sim.Cpu;

namespace Sim.Benchmarks;

/// <summary>CPUID exit round trips through NOVA, Genode's VM library and a VMM handler (<see cref="NovaCpuidWorkload"/>).</summary>
[MemoryDiagnoser]
public class NovaRoundTripBenchmarks
{
    public const int RoundTrips = 100_000;
    private NovaCpuidWorkload _workload = null!;

    [Params(CpuVendor.Intel, CpuVendor.Amd)]
    public CpuVendor Vendor { get; set; }

    [GlobalSetup]
    public void Setup() => _workload = new NovaCpuidWorkload(Vendor);

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public ulong CpuidRoundTrip() => _workload.RoundTrips(RoundTrips);
}
