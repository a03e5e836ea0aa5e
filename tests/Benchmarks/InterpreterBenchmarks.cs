using BenchmarkDotNet.Attributes;

namespace Sim.Benchmarks;

/// <summary>Interpreter throughput per execution mode: each invocation runs <see cref="Instructions"/> guest instructions.</summary>
[MemoryDiagnoser]
public class InterpreterBenchmarks
{
    public const ulong Instructions = 10_000_000;
    private GuestLoop _workload = null!;

    [Params(16, 32, 64)]
    public int Bitness { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _workload = InterpreterWorkload.Create(Bitness);
        _workload.Start();
    }

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark(OperationsPerInvoke = (int)Instructions)]
    public ulong Instruction() => _workload.Run(Instructions);
}
