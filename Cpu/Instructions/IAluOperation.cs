namespace Sim.Cpu;

/// <summary>One of the eight ALU operations, as a type, so that the JIT compiles a handler per operation.</summary>
internal interface IAluOperation
{
    static abstract bool WritesResult { get; }

    static abstract ulong Apply(Processor p, int size, ulong a, ulong b);
}
