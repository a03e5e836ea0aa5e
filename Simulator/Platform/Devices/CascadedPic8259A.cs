using Sim.Cpu.Bus;

namespace Sim.Platform.Devices;

/// <summary>
/// The PC/AT pair of 8259As: the master at ports 0x20/0x21 drives the processor's INTR, the slave at
/// 0xA0/0xA1 drives the master's IR2, and the edge/level control registers (ELCR) of PIIX-class
/// chipsets sit at 0x4D0/0x4D1. IRQ 0–7 are the master's inputs, IRQ 8–15 the slave's.
/// </summary>
public sealed class CascadedPic8259A : IInterruptSource, IPortDevice
{
    public const ushort MasterPort = 0x20;
    public const ushort SlavePort = 0xA0;
    public const ushort ElcrPort = 0x4D0;
    public const int CascadeIr = 2;

    // PIIX ELCR: IRQ0, 1, 2, 8 and 13 are always edge-triggered, their bits read as 0.
    private const byte MasterElcrMask = 0xF8;
    private const byte SlaveElcrMask = 0xDE;

    public CascadedPic8259A()
    {
        Master.OutputChanged = OnOutputChanged;
        // The slave's INT is wired to the master's IR2 like any other request line.
        Slave.OutputChanged = () => Master.SetIrqLevel(CascadeIr, Slave.Output());
    }

    public Pic8259A Master { get; } = new(isMaster: true);

    public Pic8259A Slave { get; } = new(isMaster: false);

    /// <summary>Called whenever INTR may have risen (the machine tells the processor to look).</summary>
    public Action? InterruptRaised { get; set; }

    /// <summary>INTR's level after every change of the master's output, for an I/O APIC pin wired to it.</summary>
    public Action<bool>? IntrLevel { get; set; }

    public bool InterruptPending => Master.Output();

    public void SetIrqLevel(int irq, bool level)
    {
        if ((uint)irq > 15) throw new ArgumentOutOfRangeException(nameof(irq));
        if (irq < 8) Master.SetIrqLevel(irq, level);
        else Slave.SetIrqLevel(irq - 8, level);
    }

    /// <summary>A rising then falling edge: how a device that signals an event (a timer's OUT edge) requests an interrupt.</summary>
    public void PulseIrq(int irq)
    {
        SetIrqLevel(irq, true);
        SetIrqLevel(irq, false);
    }

    /// <summary>
    /// The INTA cycle. With no request left to resolve, the 8259A answers with its IR7 vector and sets
    /// no ISR bit (the spurious IRQ 7, or IRQ 15 when the master has already committed to the slave's IR2).
    /// </summary>
    public byte Acknowledge()
    {
        var ir = Master.HighestRequest();
        if (ir < 0) return Master.VectorFor(7);
        if (!Master.IsCascade(ir))
        {
            Master.Acknowledge(ir);
            return Master.VectorFor(ir);
        }
        var slaveIr = Slave.HighestRequest();
        Master.Acknowledge(ir);
        if (slaveIr < 0) return Slave.VectorFor(7);
        Slave.Acknowledge(slaveIr);
        return Slave.VectorFor(slaveIr);
    }

    public uint Read(ushort port, int size) => port switch
    {
        MasterPort or MasterPort + 1 => Master.Read(port & 1),
        SlavePort or SlavePort + 1 => Slave.Read(port & 1),
        ElcrPort => Master.Elcr,
        ElcrPort + 1 => Slave.Elcr,
        _ => 0xFF,
    };

    public void Write(ushort port, int size, uint value)
    {
        var b = (byte)value;
        switch (port)
        {
            case MasterPort or MasterPort + 1: Master.Write(port & 1, b); break;
            case SlavePort or SlavePort + 1: Slave.Write(port & 1, b); break;
            case ElcrPort: Master.Elcr = (byte)(b & MasterElcrMask); OnOutputChanged(); break;
            case ElcrPort + 1: Slave.Elcr = (byte)(b & SlaveElcrMask); OnOutputChanged(); break;
        }
    }

    private void OnOutputChanged()
    {
        var level = InterruptPending;
        IntrLevel?.Invoke(level);
        if (level) InterruptRaised?.Invoke();
    }
}
