using Sim.Platform.Devices;

namespace Sim.Platform;

/// <summary>
/// The ISA interrupt lines as a PC wires them: each IRQ reaches the 8259 pair and the I/O APIC pin
/// of its GSI (IRQ 0 on pin 2), so that software may use either controller. While the HPET's legacy
/// replacement route is on, the PIT's IRQ 0 and the RTC's IRQ 8 are cut off and the HPET's timers
/// 0 and 1 drive those lines instead (IA-PC HPET specification 2.3.9).
/// </summary>
public sealed class IsaInterruptLines
{
    private readonly CascadedPic8259A _pic;
    private readonly IoApic82093AA _ioApic;
    private bool _legacyReplacement;
    private bool _rtcLevel;

    public IsaInterruptLines(CascadedPic8259A pic, IoApic82093AA ioApic)
    {
        _pic = pic;
        _ioApic = ioApic;
    }

    public void SetLevel(int irq, bool level)
    {
        _pic.SetIrqLevel(irq, level);
        _ioApic.SetPinLevel(ChipsetLayout.GsiOfIsaIrq(irq), level);
    }

    public void Pulse(int irq)
    {
        SetLevel(irq, true);
        SetLevel(irq, false);
    }

    /// <summary>The PIT's OUT0 rising edge.</summary>
    public void PitOut0Rising()
    {
        if (!_legacyReplacement) Pulse(0);
    }

    /// <summary>The RTC's IRQ 8 output.</summary>
    public void RtcLevel(bool level)
    {
        _rtcLevel = level;
        if (!_legacyReplacement) SetLevel(8, level);
    }

    public void LegacyReplacementChanged(bool on)
    {
        _legacyReplacement = on;
        SetLevel(8, !on && _rtcLevel);
    }
}
