using BenchmarkDotNet.Attributes;

namespace Sim.Benchmarks;

/// <summary>
/// Interpreter throughput on floating-point and SIMD loops (<see cref="X87Workload"/>, <see cref="Sse2Workload"/>,
/// <see cref="Avx2Workload"/>): each invocation runs <see cref="Instructions"/> guest instructions, so MIPS = 1000 / ns per operation.
/// The AVX2 case fails its set-up where the processor does not announce AVX2 and FMA.
/// </summary>
[MemoryDiagnoser]
public class FloatingPointBenchmarks
{
    public const ulong Instructions = 5_000_000;
    private GuestLoop _workload = null!;

    [Params("x87", "sse2", "avx2")]
    public string Loop { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _workload = Loop switch
        {
            "x87" => X87Workload.Create(),
            "sse2" => Sse2Workload.Create(),
            _ => Avx2Workload.Create(),
        };
        if (Loop == "avx2" && !Avx2Workload.IsAnnounced(_workload))
            throw new NotSupportedException("the processor does not announce AVX2 and FMA (CPUID), so the AVX2 loop cannot run");
        _workload.Start();
    }

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark(OperationsPerInvoke = (int)Instructions)]
    public ulong Instruction() => _workload.Run(Instructions);
}
