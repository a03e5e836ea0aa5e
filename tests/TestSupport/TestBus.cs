using System.Text;
using Sim.Cpu;
using Sim.Cpu.Bus;

namespace Sim.TestSupport;

/// <summary>
/// A port bus for tests: every write is recorded, port 0xE9 collects output, port 0xF4 records an
/// exit value and stops <see cref="Cpu"/>; a read answers from <see cref="InputValues"/> or with
/// <see cref="ReadValue"/> cut to the access size (open bus by default).
/// </summary>
internal sealed class TestBus : IIoBus
{
    public StringBuilder Output { get; } = new();
    public List<byte> Bytes { get; } = new();
    public List<(ushort Port, int Size, uint Value)> Writes { get; } = new();
    public int? ExitValue { get; private set; }
    public Processor? Cpu { get; set; }
    public Dictionary<ushort, uint> InputValues { get; } = new();
    public uint ReadValue { get; set; } = 0xFFFFFFFF;

    public uint Read(ushort port, int size) =>
        InputValues.TryGetValue(port, out var v) ? v : ReadValue & (size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1);

    public void Write(ushort port, int size, uint value)
    {
        Writes.Add((port, size, value));
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
