namespace Sim.Cpu;

/// <summary>One of the sixteen condition codes, as a type, so that the JIT compiles a Jcc per condition.</summary>
internal interface ICondition
{
    static abstract bool Holds(Processor p);
}
