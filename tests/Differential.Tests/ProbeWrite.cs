using System.Globalization;

namespace Sim.Differential.Tests;

/// <summary>One write of a probe case: a VMCS field encoding (Size 8, by VMWRITE) or a VMCB offset with its size in bytes.</summary>
public readonly record struct ProbeWrite(uint Target, int Size, ulong Value, string Name)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name}({Target:x})={Value:x}");
}
