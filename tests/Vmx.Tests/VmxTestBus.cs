using Sim.Cpu.Bus;

namespace Sim.Vmx.Tests;

/// <summary>A port bus for VMX tests: records writes, answers reads with a fixed value.</summary>
internal sealed class VmxTestBus : IIoBus
{
    public List<(ushort Port, int Size, uint Value)> Writes { get; } = new();

    public uint Read(ushort port, int size) => 0x5A;

    public void Write(ushort port, int size, uint value) => Writes.Add((port, size, value));
}
