using System.Text;
using Sim.Cpu.Bus;

namespace Sim.Vmx.Tests;

/// <summary>A port bus for EPT guest tests: port 0xE9 collects output; every other port reads as open bus.</summary>
internal sealed class EptTestBus : IIoBus
{
    public StringBuilder Output { get; } = new();

    public uint Read(ushort port, int size) => size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;

    public void Write(ushort port, int size, uint value)
    {
        if (port == 0xE9) Output.Append((char)(byte)value);
    }
}
