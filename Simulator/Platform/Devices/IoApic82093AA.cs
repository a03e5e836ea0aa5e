using Sim.Cpu.Bus;
using Sim.Platform.Apic;

namespace Sim.Platform.Devices;

/// <summary>
/// The Intel 82093AA I/O APIC (datasheet 290566) in its MMIO page at <see cref="ChipsetLayout.IoApicBase"/>:
/// IOREGSEL at +00h selects the indirect register that IOWIN at +10h reads and writes (IOAPICID,
/// IOAPICVER, IOAPICARB and the 24 redirection entries at 10h–3Fh); version 20h adds the EOI register
/// at +40h of the later chipset I/O APICs. Each of the <see cref="ChipsetLayout.IoApicPins"/> input pins
/// that a device drives through <see cref="SetPinLevel"/> becomes an <see cref="InterruptMessage"/> to the
/// local APICs as its redirection entry says: an edge-triggered entry sends one on each assertion edge
/// of an unmasked pin; a level-triggered entry sends one while the pin is asserted and remote IRR is
/// clear, sets remote IRR, and sends again after the EOI for its vector if the pin is still asserted.
/// Messages are delivered at once, so delivery status always reads idle.
/// </summary>
public sealed class IoApic82093AA : IMmioDevice, IEoiListener
{
    public const int Pins = ChipsetLayout.IoApicPins;

    public const int IoRegSelOffset = 0x00;
    public const int IoWinOffset = 0x10;
    public const int EoiOffset = 0x40;

    public const byte IoApicIdRegister = 0x00;
    public const byte IoApicVersionRegister = 0x01;
    public const byte IoApicArbitrationRegister = 0x02;
    public const byte RedirectionTableRegister = 0x10;

    /// <summary>The 82093AA's own version.</summary>
    public const byte Version11 = 0x11;

    /// <summary>The version of the ICH-class I/O APICs that have the EOI register (and QEMU's default).</summary>
    public const byte Version20 = 0x20;

    private const int IdShift = 24;
    private const uint IdMask = 0xF;
    private const int MaximumRedirectionEntryShift = 16;

    private readonly IInterruptMessageSink _sink;
    private readonly ulong[] _entries = new ulong[Pins];
    private uint _pinLevels;
    private byte _ioRegSel;
    private byte _id;

    public IoApic82093AA(IInterruptMessageSink sink, byte version = Version20)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (version is not (Version11 or Version20))
            throw new ArgumentOutOfRangeException(nameof(version), "The I/O APIC is version 11h (82093AA) or 20h (with the EOI register).");
        _sink = sink;
        Version = version;
        Reset();
    }

    public byte Version { get; }

    /// <summary>IOAPICID bits 24–27; the arbitration ID (IOAPICARB) is loaded with the same value (datasheet 3.2.1).</summary>
    public byte Id => _id;

    /// <summary>The selector last written to IOREGSEL (bits 0–7; bits 8–31 are reserved).</summary>
    public byte RegisterSelect => _ioRegSel;

    /// <summary>RESET: every entry masked, ID 0, selector 0. The input pins keep the levels their devices drive.</summary>
    public void Reset()
    {
        Array.Fill(_entries, IoApicRedirectionEntry.Reset.Value);
        _ioRegSel = 0;
        _id = 0;
    }

    public IoApicRedirectionEntry RedirectionEntry(int pin) => new(_entries[CheckPin(pin)]);

    /// <summary>The electrical level of the pin, before the entry's polarity applies.</summary>
    public bool PinLevel(int pin) => (_pinLevels & (1u << CheckPin(pin))) != 0;

    /// <summary>
    /// What the device wired to <paramref name="pin"/> drives. Unwired pins rest low, so an active-low
    /// entry on one reads as asserted.
    /// </summary>
    public void SetPinLevel(int pin, bool level)
    {
        var bit = 1u << CheckPin(pin);
        if (((_pinLevels & bit) != 0) == level) return;
        _pinLevels ^= bit;
        var entry = new IoApicRedirectionEntry(_entries[pin]);
        if (level == entry.ActiveLow) return;
        if (entry.EffectivelyLevel) ServiceLevel(pin);
        else if (!entry.Masked) Send(entry);
    }

    /// <summary>
    /// The EOI broadcast of a local APIC (or a write to the EOI register): clears remote IRR of the
    /// entries with <paramref name="vector"/>, and a level interrupt whose pin is still asserted is sent again.
    /// </summary>
    public void EndOfInterrupt(byte vector)
    {
        for (var pin = 0; pin < Pins; pin++)
        {
            var value = _entries[pin];
            if ((value & IoApicRedirectionEntry.VectorMask) != vector || (value & IoApicRedirectionEntry.RemoteIrrBit) == 0) continue;
            _entries[pin] = value & ~IoApicRedirectionEntry.RemoteIrrBit;
            ServiceLevel(pin);
        }
    }

    /// <summary>
    /// IOREGSEL answers accesses of any size at +00h (its low byte is the selector); IOWIN and the EOI
    /// register answer 32-bit accesses only, as the datasheet requires ("all APIC registers are accessed
    /// using 32-bit loads and stores"). Everything else reads as 0 and ignores writes, as in QEMU.
    /// </summary>
    public ulong Read(ulong address, int size)
    {
        var offset = (int)(address & 0xFFF);
        if (offset == IoRegSelOffset) return _ioRegSel;
        if (offset == IoWinOffset && size == 4) return ReadRegister(_ioRegSel);
        return 0;
    }

    public void Write(ulong address, int size, ulong value)
    {
        var offset = (int)(address & 0xFFF);
        if (offset == IoRegSelOffset) _ioRegSel = (byte)value;
        else if (offset == IoWinOffset && size == 4) WriteRegister(_ioRegSel, (uint)value);
        else if (offset == EoiOffset && size == 4 && Version == Version20) EndOfInterrupt((byte)value);
    }

    /// <summary>An indirect register as IOWIN shows it; unimplemented selectors read as 0.</summary>
    public uint ReadRegister(byte index)
    {
        switch (index)
        {
            case IoApicIdRegister:
            case IoApicArbitrationRegister:
                return (uint)_id << IdShift;
            case IoApicVersionRegister:
                return Version | (uint)(Pins - 1) << MaximumRedirectionEntryShift;
        }
        if (RedirectionPin(index) is not { } pin) return 0;
        var entry = _entries[pin];
        return (index & 1) == 0 ? (uint)entry : (uint)(entry >> 32);
    }

    public void WriteRegister(byte index, uint value)
    {
        if (index == IoApicIdRegister)
        {
            _id = (byte)((value >> IdShift) & IdMask);
            return;
        }
        if (RedirectionPin(index) is not { } pin) return;
        var old = _entries[pin];
        var written = (index & 1) == 0 ? (old & ~0xFFFF_FFFFUL) | value : (old & 0xFFFF_FFFFUL) | (ulong)value << 32;
        var entry = (written & IoApicRedirectionEntry.WritableBits) | (old & ~IoApicRedirectionEntry.WritableBits);
        // Remote IRR means nothing for an edge entry; clearing it there is what Linux relies on to end a
        // level interrupt on I/O APICs without the EOI register (it flips the entry to edge and back), and QEMU does so.
        if ((entry & IoApicRedirectionEntry.TriggerModeBit) == 0) entry &= ~IoApicRedirectionEntry.RemoteIrrBit;
        _entries[pin] = entry;
        // Unmasking (or reprogramming) a level entry whose pin is asserted delivers the pending interrupt.
        ServiceLevel(pin);
    }

    private static int? RedirectionPin(byte index)
    {
        var pin = (index - RedirectionTableRegister) >> 1;
        return index >= RedirectionTableRegister && pin < Pins ? pin : null;
    }

    private void ServiceLevel(int pin)
    {
        var entry = new IoApicRedirectionEntry(_entries[pin]);
        if (!entry.EffectivelyLevel || entry.Masked || entry.RemoteIrr) return;
        if ((((_pinLevels >> pin) & 1) != 0) == entry.ActiveLow) return;
        if (entry.IsReservedDeliveryMode) return;
        // Set before the message goes out, so that an EOI the sink sends back at once finds it.
        _entries[pin] = entry.Value | IoApicRedirectionEntry.RemoteIrrBit;
        _sink.Deliver(entry.ToMessage());
    }

    private void Send(IoApicRedirectionEntry entry)
    {
        // The reserved delivery modes 011b and 110b have no defined message.
        if (entry.IsReservedDeliveryMode) return;
        _sink.Deliver(entry.ToMessage());
    }

    private static int CheckPin(int pin)
    {
        if ((uint)pin >= Pins) throw new ArgumentOutOfRangeException(nameof(pin), $"The I/O APIC has pins 0–{Pins - 1}.");
        return pin;
    }
}
