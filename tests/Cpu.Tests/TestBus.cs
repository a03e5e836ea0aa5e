using System.Text;
using Sim.Cpu.Bus;

namespace Sim.Cpu.Tests;

/// <summary>A port bus for CPU tests: port 0xE9 collects output, port 0xF4 records an exit value and stops the processor.</summary>
internal sealed class TestBus : IIoBus
{
    public StringBuilder Output { get; } = new();
    public List<byte> Bytes { get; } = new();
    public int? ExitValue { get; private set; }
    public Processor? Cpu { get; set; }
    public Dictionary<ushort, uint> InputValues { get; } = new();

    public uint Read(ushort port, int size) =>
        InputValues.TryGetValue(port, out var v) ? v : size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;

    public void Write(ushort port, int size, uint value)
    {
        if (port == 0xE9)
        {
            Output.Append((char)(byte)value);
            Bytes.Add((byte)value);
        }
        else if (port == 0xF4)
        {
            ExitValue = (int)value;
            Cpu?.RequestStop();
        }
    }
}
