using BenchmarkDotNet.Attributes;

namespace Sim.Benchmarks;

/// <summary>Exception and interrupt delivery per mode and event: each operation is one event, its handler and IRET.</summary>
[MemoryDiagnoser]
public class ExceptionBenchmarks
{
    public const int Events = 100_000;
    private ExceptionWorkload _workload = null!;

    /// <summary>One event kind in one mode, with the stack on a page of its own or on the code's page ("code SP").</summary>
    public readonly record struct Case(int Bitness, ExceptionWorkload.Event Kind, bool StackOnCodePage)
    {
        // Short enough for BenchmarkDotNet's parameter column (20 characters).
        public override string ToString() => $"{Bitness}-bit {Name}{(StackOnCodePage ? ", code SP" : "")}";

        private string Name => Kind switch
        {
            ExceptionWorkload.Event.UndefinedOpcode => "#UD",
            ExceptionWorkload.Event.SoftwareInterrupt => "INT n",
            ExceptionWorkload.Event.PageFault => "#PF",
            ExceptionWorkload.Event.GeneralProtection => "#GP",
            _ => "INTR",
        };
    }

    /// <summary>Every event in every mode (real mode has no #PF), and #UD with the stack on the code's page.</summary>
    public static IEnumerable<Case> Cases() =>
        from bitness in new[] { 16, 32, 64 }
        from c in Enum.GetValues<ExceptionWorkload.Event>().Select(kind => new Case(bitness, kind, false))
            .Append(new Case(bitness, ExceptionWorkload.Event.UndefinedOpcode, true))
        where bitness != 16 || c.Kind != ExceptionWorkload.Event.PageFault
        select c;

    [ParamsSource(nameof(Cases))]
    public Case Workload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _workload = new ExceptionWorkload(Workload.Bitness, Workload.Kind, Workload.StackOnCodePage);
        _workload.Run(1000);
    }

    [GlobalCleanup]
    public void Cleanup() => _workload.Dispose();

    [Benchmark(OperationsPerInvoke = Events)]
    public ulong Event() => _workload.Run(Events);
}
