using Sim.Cpu;
using Sim.Cpu.Bus;

namespace Sim.Differential.Tests;

/// <summary>The ports the guests use: E9h collects output bytes, F4h ends the run (like QEMU's isa-debug-exit).</summary>
internal sealed class DebugPortBus : IIoBus
{
    public List<byte> Bytes { get; } = [];
    public int? ExitValue { get; private set; }
    public Processor? Cpu { get; set; }

    public uint Read(ushort port, int size) => size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;

    public void Write(ushort port, int size, uint value)
    {
        if (port == 0xE9) Bytes.Add((byte)value);
        else if (port == 0xF4)
        {
            ExitValue = (int)value;
            Cpu?.RequestStop();
        }
    }
}
