namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    private bool ExecuteX87Transcendental(ref DecodedOp op) => RaiseFault(Registers.ExceptionVector.UD, 0);
}
