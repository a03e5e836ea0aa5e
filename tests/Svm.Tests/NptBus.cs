using System.Text;
using Sim.Cpu.Bus;

namespace Sim.Svm.Tests;

/// <summary>A port bus that collects what a guest writes to the debug port 0xE9.</summary>
internal sealed class NptBus : IIoBus
{
    public StringBuilder Output { get; } = new();

    public uint Read(ushort port, int size) => size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;

    public void Write(ushort port, int size, uint value)
    {
        if (port == 0xE9) Output.Append((char)(byte)value);
    }
}
