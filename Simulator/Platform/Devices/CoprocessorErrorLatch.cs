using Sim.Cpu.Bus;

namespace Sim.Platform.Devices;

/// <summary>
/// The PC's coprocessor-error wiring (SDM vol. 1, D.2.1): the processors' FERR# sets a latch that drives IRQ 13, and
/// a write to port F0h (any value) clears it, as DOS-era x87 exception handlers do before FNCLEX.
/// </summary>
public sealed class CoprocessorErrorLatch(Action<bool> irq13Level) : IFpuErrorSignal, IPortDevice
{
    public const ushort Port = 0xF0;
    public const int Irq = 13;

    public void AssertFerr() => irq13Level(true);

    public uint Read(ushort port, int size) => 0xFFFFFFFF;

    public void Write(ushort port, int size, uint value) => irq13Level(false);
}
