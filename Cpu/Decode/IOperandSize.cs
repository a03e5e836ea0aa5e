namespace Sim.Cpu;

/// <summary>An operand size as a type, so that the JIT compiles a handler per size with the size-dependent branches folded away.</summary>
internal interface IOperandSize
{
    static abstract int Bytes { get; }
}
