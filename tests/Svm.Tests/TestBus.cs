using Sim.Cpu.Bus;

namespace Sim.Svm.Tests;

/// <summary>A port bus for the tests: reads return fixed values, writes are recorded.</summary>
internal sealed class TestBus : IIoBus
{
    public List<(ushort Port, int Size, uint Value)> Writes { get; } = new();

    public uint Read(ushort port, int size) => 0x5A5A5A5A & (size == 4 ? 0xFFFFFFFF : (1u << (8 * size)) - 1);

    public void Write(ushort port, int size, uint value) => Writes.Add((port, size, value));
}
