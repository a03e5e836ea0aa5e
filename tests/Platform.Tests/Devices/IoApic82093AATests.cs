using Sim.Platform.Apic;
using Sim.Platform.Devices;

namespace Sim.Platform.Tests.Devices;

/// <summary>The I/O APIC against the 82093AA datasheet (290566), section numbers from it.</summary>
[TestClass]
public sealed class IoApic82093AATests
{
    private const ulong Base = ChipsetLayout.IoApicBase;

    private sealed class RecordingSink : IInterruptMessageSink
    {
        public List<InterruptMessage> Messages { get; } = [];

        public void Deliver(in InterruptMessage message) => Messages.Add(message);
    }

    private static (IoApic82093AA IoApic, RecordingSink Sink) Create(byte version = IoApic82093AA.Version20)
    {
        var sink = new RecordingSink();
        return (new IoApic82093AA(sink, version), sink);
    }

    private static uint ReadIndirect(IoApic82093AA ioApic, byte index)
    {
        ioApic.Write(Base + 0x00, 4, index);
        return (uint)ioApic.Read(Base + 0x10, 4);
    }

    private static void WriteIndirect(IoApic82093AA ioApic, byte index, uint value)
    {
        ioApic.Write(Base + 0x00, 4, index);
        ioApic.Write(Base + 0x10, 4, value);
    }

    private static void Program(IoApic82093AA ioApic, int pin, ulong entry)
    {
        WriteIndirect(ioApic, (byte)(0x11 + 2 * pin), (uint)(entry >> 32));
        WriteIndirect(ioApic, (byte)(0x10 + 2 * pin), (uint)entry);
    }

    private const ulong Level = IoApicRedirectionEntry.TriggerModeBit;
    private const ulong ActiveLow = IoApicRedirectionEntry.PolarityBit;
    private const ulong Masked = IoApicRedirectionEntry.MaskBit;

    [TestMethod]
    [DataRow(IoApic82093AA.Version11)]
    [DataRow(IoApic82093AA.Version20)]
    public void VersionRegisterHoldsVersionAndMaximumRedirectionEntry(byte version)
    {
        // 3.2.2: bits 0–7 version, bits 16–23 the number of the highest entry (23 for 24 pins).
        var (ioApic, _) = Create(version);
        Assert.AreEqual(version | 23u << 16, ReadIndirect(ioApic, 0x01));
        WriteIndirect(ioApic, 0x01, 0xFFFF_FFFF);
        Assert.AreEqual(version | 23u << 16, ReadIndirect(ioApic, 0x01), "IOAPICVER is read-only");
    }

    [TestMethod]
    public void IdIsFourBitsAt24AndLoadsTheArbitrationIdToo()
    {
        // 3.2.1: ID in bits 24–27, 0 at reset; 3.2.3: IOAPICARB is read-only and loaded by IOAPICID writes.
        var (ioApic, _) = Create();
        Assert.AreEqual(0u, ReadIndirect(ioApic, 0x00));
        WriteIndirect(ioApic, 0x00, 0xFFFF_FFFF);
        Assert.AreEqual(0x0F00_0000u, ReadIndirect(ioApic, 0x00));
        Assert.AreEqual(0x0F00_0000u, ReadIndirect(ioApic, 0x02));
        WriteIndirect(ioApic, 0x02, 0x0300_0000);
        Assert.AreEqual(0x0F00_0000u, ReadIndirect(ioApic, 0x02), "IOAPICARB is read-only");
        Assert.AreEqual((byte)0xF, ioApic.Id);
    }

    [TestMethod]
    public void ResetMasksEveryEntry()
    {
        var (ioApic, sink) = Create();
        for (var pin = 0; pin < 24; pin++)
        {
            Assert.AreEqual(0x0001_0000u, ReadIndirect(ioApic, (byte)(0x10 + 2 * pin)), $"pin {pin} low half");
            Assert.AreEqual(0u, ReadIndirect(ioApic, (byte)(0x11 + 2 * pin)), $"pin {pin} high half");
            ioApic.SetPinLevel(pin, true);
        }
        Assert.AreEqual(0, sink.Messages.Count);
    }

    [TestMethod]
    public void RegistersBeyondTheTableReadAsZero()
    {
        var (ioApic, _) = Create();
        foreach (byte index in new byte[] { 0x03, 0x0F, 0x40, 0xFF })
        {
            WriteIndirect(ioApic, index, 0xFFFF_FFFF);
            Assert.AreEqual(0u, ReadIndirect(ioApic, index), $"register {index:x2}");
        }
    }

    [TestMethod]
    public void ReadOnlyAndReservedBitsIgnoreWrites()
    {
        // 3.2.4: delivery status (12) and remote IRR (14) are read-only, bits 17–55 reserved.
        var (ioApic, _) = Create();
        WriteIndirect(ioApic, 0x10, 0xFFFF_FFFF);
        WriteIndirect(ioApic, 0x11, 0xFFFF_FFFF);
        Assert.AreEqual(0x0001_AFFFu, ReadIndirect(ioApic, 0x10));
        Assert.AreEqual(0xFF00_0000u, ReadIndirect(ioApic, 0x11));
    }

    [TestMethod]
    public void EdgeEntrySendsOnEachRisingEdgeOnly()
    {
        var (ioApic, sink) = Create();
        Program(ioApic, 4, 0x31);
        ioApic.SetPinLevel(4, true);
        ioApic.SetPinLevel(4, true);
        Assert.AreEqual(1, sink.Messages.Count, "holding the pin high is no new edge");
        ioApic.SetPinLevel(4, false);
        Assert.AreEqual(1, sink.Messages.Count, "the falling edge sends nothing");
        ioApic.SetPinLevel(4, true);
        Assert.AreEqual(2, sink.Messages.Count);
        Assert.AreEqual(new InterruptMessage(0x31, DeliveryMode.Fixed, false, 0, false), sink.Messages[0]);
        Assert.IsFalse(ioApic.RedirectionEntry(4).RemoteIrr, "remote IRR belongs to level entries only");
    }

    [TestMethod]
    public void ActiveLowEdgeEntrySendsOnTheFallingEdge()
    {
        var (ioApic, sink) = Create();
        ioApic.SetPinLevel(5, true);
        Program(ioApic, 5, 0x40 | ActiveLow);
        ioApic.SetPinLevel(5, false);
        Assert.AreEqual(1, sink.Messages.Count);
        ioApic.SetPinLevel(5, true);
        Assert.AreEqual(1, sink.Messages.Count);
    }

    [TestMethod]
    public void MaskedEdgeIsLostNotHeldPending()
    {
        // 3.2.4, mask bit: an edge arriving on a masked pin is not delivered nor held pending.
        var (ioApic, sink) = Create();
        Program(ioApic, 3, 0x33 | Masked);
        ioApic.SetPinLevel(3, true);
        Program(ioApic, 3, 0x33);
        Assert.AreEqual(0, sink.Messages.Count);
    }

    [TestMethod]
    public void LevelEntrySendsOnceUntilEoiThenAgainWhileAsserted()
    {
        var (ioApic, sink) = Create();
        Program(ioApic, 9, 0x49 | Level);
        ioApic.SetPinLevel(9, true);
        Assert.AreEqual(1, sink.Messages.Count);
        Assert.IsTrue(sink.Messages[0].LevelTriggered);
        Assert.IsTrue(ioApic.RedirectionEntry(9).RemoteIrr, "set when the local APIC accepts the message");
        Assert.AreEqual(0x0000_C049u, ReadIndirect(ioApic, 0x22), "remote IRR is bit 14");

        ioApic.SetPinLevel(9, false);
        ioApic.SetPinLevel(9, true);
        Assert.AreEqual(1, sink.Messages.Count, "nothing more while remote IRR is set");

        ioApic.EndOfInterrupt(0x48);
        Assert.AreEqual(1, sink.Messages.Count, "an EOI for another vector leaves it");
        ioApic.EndOfInterrupt(0x49);
        Assert.AreEqual(2, sink.Messages.Count, "still asserted after the EOI: sent again");
        Assert.IsTrue(ioApic.RedirectionEntry(9).RemoteIrr);

        ioApic.SetPinLevel(9, false);
        ioApic.EndOfInterrupt(0x49);
        Assert.AreEqual(2, sink.Messages.Count);
        Assert.IsFalse(ioApic.RedirectionEntry(9).RemoteIrr);
    }

    [TestMethod]
    public void EoiRegisterOfVersion20EndsTheInterrupt()
    {
        var (ioApic, sink) = Create(IoApic82093AA.Version20);
        Program(ioApic, 10, 0x50 | Level);
        ioApic.SetPinLevel(10, true);
        ioApic.Write(Base + 0x40, 2, 0x50);
        Assert.IsTrue(ioApic.RedirectionEntry(10).RemoteIrr, "the EOI register takes 32-bit writes only");
        ioApic.Write(Base + 0x40, 4, 0x50);
        Assert.AreEqual(2, sink.Messages.Count);
    }

    [TestMethod]
    public void Version11HasNoEoiRegister()
    {
        var (ioApic, sink) = Create(IoApic82093AA.Version11);
        Program(ioApic, 10, 0x50 | Level);
        ioApic.SetPinLevel(10, true);
        ioApic.Write(Base + 0x40, 4, 0x50);
        Assert.IsTrue(ioApic.RedirectionEntry(10).RemoteIrr);
        Assert.AreEqual(1, sink.Messages.Count);
    }

    [TestMethod]
    public void ActiveLowLevelEntryIsAssertedWhileThePinIsLow()
    {
        var (ioApic, sink) = Create();
        ioApic.SetPinLevel(16, true);
        Program(ioApic, 16, 0x60 | Level | ActiveLow);
        Assert.AreEqual(0, sink.Messages.Count);
        ioApic.SetPinLevel(16, false);
        Assert.AreEqual(1, sink.Messages.Count);
        ioApic.SetPinLevel(16, true);
        ioApic.EndOfInterrupt(0x60);
        Assert.AreEqual(1, sink.Messages.Count, "deasserted at the EOI");
    }

    [TestMethod]
    public void PendingLevelInterruptFiresWhenUnmasked()
    {
        var (ioApic, sink) = Create();
        Program(ioApic, 11, 0x51 | Level | Masked);
        ioApic.SetPinLevel(11, true);
        Assert.AreEqual(0, sink.Messages.Count);
        Program(ioApic, 11, 0x51 | Level);
        Assert.AreEqual(1, sink.Messages.Count);
        Assert.IsTrue(ioApic.RedirectionEntry(11).RemoteIrr);
    }

    [TestMethod]
    public void MaskedLevelEntryDoesNotResendAfterEoi()
    {
        var (ioApic, sink) = Create();
        Program(ioApic, 12, 0x52 | Level);
        ioApic.SetPinLevel(12, true);
        Program(ioApic, 12, 0x52 | Level | Masked);
        Assert.IsTrue(ioApic.RedirectionEntry(12).RemoteIrr, "masking leaves remote IRR as it is");
        ioApic.EndOfInterrupt(0x52);
        Assert.AreEqual(1, sink.Messages.Count);
        Assert.IsFalse(ioApic.RedirectionEntry(12).RemoteIrr);
        Program(ioApic, 12, 0x52 | Level);
        Assert.AreEqual(2, sink.Messages.Count);
    }

    [TestMethod]
    public void SwitchingToEdgeClearsRemoteIrr()
    {
        // Linux's __eoi_ioapic_pin for I/O APICs without EOI register flips the entry to edge and back.
        var (ioApic, sink) = Create();
        Program(ioApic, 13, 0x53 | Level);
        ioApic.SetPinLevel(13, true);
        Program(ioApic, 13, 0x53 | Masked);
        Assert.IsFalse(ioApic.RedirectionEntry(13).RemoteIrr);
        Program(ioApic, 13, 0x53 | Level);
        Assert.AreEqual(2, sink.Messages.Count, "still asserted when it is level and unmasked again");
    }

    [TestMethod]
    [DataRow(0, DeliveryMode.Fixed, true)]
    [DataRow(1, DeliveryMode.LowestPriority, true)]
    [DataRow(2, DeliveryMode.Smi, false)]
    [DataRow(4, DeliveryMode.Nmi, false)]
    [DataRow(5, DeliveryMode.Init, false)]
    [DataRow(7, DeliveryMode.ExtInt, false)]
    public void DeliveryModeIsCarriedAndOnlyFixedAndLowestPriorityAreLevel(int field, DeliveryMode mode, bool level)
    {
        // 3.2.4 and SDM vol. 3, 11.6.1: NMI, INIT and ExtINT (and SMI) are edge-triggered whatever TRIGGER says.
        var (ioApic, sink) = Create();
        Program(ioApic, 1, 0x71 | (ulong)field << 8 | Level);
        ioApic.SetPinLevel(1, true);
        Assert.AreEqual(1, sink.Messages.Count);
        Assert.AreEqual(new InterruptMessage(0x71, mode, false, 0, level), sink.Messages[0]);
        Assert.AreEqual(level, ioApic.RedirectionEntry(1).RemoteIrr);
        ioApic.SetPinLevel(1, false);
        ioApic.SetPinLevel(1, true);
        Assert.AreEqual(level ? 1 : 2, sink.Messages.Count);
    }

    [TestMethod]
    [DataRow(3)]
    [DataRow(6)]
    public void ReservedDeliveryModesSendNothing(int field)
    {
        var (ioApic, sink) = Create();
        Program(ioApic, 1, 0x71 | (ulong)field << 8);
        ioApic.SetPinLevel(1, true);
        Assert.AreEqual(0, sink.Messages.Count);
    }

    [TestMethod]
    public void DestinationModeAndDestinationAreCarried()
    {
        var (ioApic, sink) = Create();
        Program(ioApic, 20, 0x81 | IoApicRedirectionEntry.DestinationModeBit | 0xA5UL << 56);
        Program(ioApic, 21, 0x82 | 0x0FUL << 56);
        ioApic.SetPinLevel(20, true);
        ioApic.SetPinLevel(21, true);
        Assert.AreEqual(new InterruptMessage(0x81, DeliveryMode.Fixed, true, 0xA5, false), sink.Messages[0]);
        Assert.AreEqual(new InterruptMessage(0x82, DeliveryMode.Fixed, false, 0x0F, false), sink.Messages[1]);
    }

    [TestMethod]
    public void IoWinTakesOnly32BitAccesses()
    {
        var (ioApic, _) = Create();
        ioApic.Write(Base + 0x00, 1, 0x01);
        Assert.AreEqual((ulong)0x01, ioApic.Read(Base + 0x00, 4), "IOREGSEL reads back");
        Assert.AreEqual(0x0017_0020UL, ioApic.Read(Base + 0x10, 4));
        Assert.AreEqual(0UL, ioApic.Read(Base + 0x10, 1));
        Assert.AreEqual(0UL, ioApic.Read(Base + 0x10, 2));
        Assert.AreEqual(0UL, ioApic.Read(Base + 0x10, 8));
        Assert.AreEqual(0UL, ioApic.Read(Base + 0x11, 1));
        ioApic.Write(Base + 0x00, 4, 0x10);
        ioApic.Write(Base + 0x10, 1, 0x00);
        ioApic.Write(Base + 0x10, 2, 0x00);
        ioApic.Write(Base + 0x10, 8, 0x00);
        Assert.AreEqual(0x0001_0000UL, ioApic.Read(Base + 0x10, 4), "narrow and wide writes leave the entry");
        ioApic.Write(Base + 0x00, 4, 0x1FF);
        Assert.AreEqual((ulong)0xFF, ioApic.Read(Base + 0x00, 4), "IOREGSEL is 8 bits");
        Assert.AreEqual(0UL, ioApic.Read(Base + 0x20, 4));
    }
}
