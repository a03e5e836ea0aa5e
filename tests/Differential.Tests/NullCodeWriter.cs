using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>Discards bytes; lets the generator ask the encoder whether an instruction is encodable.</summary>
internal sealed class NullCodeWriter : CodeWriter
{
    public override void WriteByte(byte value)
    {
    }
}
