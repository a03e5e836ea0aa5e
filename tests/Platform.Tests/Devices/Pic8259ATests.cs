using Sim.Platform.Devices;

namespace Sim.Platform.Tests.Devices;

/// <summary>The 8259A pair against the datasheet (Intel 231468) and the PC/AT wiring.</summary>
[TestClass]
public sealed class Pic8259ATests
{
    private const byte MasterBase = 0x08, SlaveBase = 0x70;

    /// <summary>The PC BIOS sequence: ICW1 edge/cascade/ICW4, ICW2 vector base, ICW3 wiring, ICW4 8086 mode.</summary>
    private static CascadedPic8259A InitializedPair(byte icw4 = 0x01)
    {
        var pic = new CascadedPic8259A();
        pic.Write(0x20, 1, 0x11);
        pic.Write(0x21, 1, MasterBase);
        pic.Write(0x21, 1, 0x04);
        pic.Write(0x21, 1, icw4);
        pic.Write(0xA0, 1, 0x11);
        pic.Write(0xA1, 1, SlaveBase);
        pic.Write(0xA1, 1, 0x02);
        pic.Write(0xA1, 1, icw4);
        return pic;
    }

    private static byte ReadIsr(CascadedPic8259A pic, ushort port)
    {
        pic.Write(port, 1, 0x0B);
        return (byte)pic.Read(port, 1);
    }

    private static byte ReadIrr(CascadedPic8259A pic, ushort port)
    {
        pic.Write(port, 1, 0x0A);
        return (byte)pic.Read(port, 1);
    }

    [TestMethod]
    public void IcwSequenceSetsVectorBaseAndClearsTheMask()
    {
        var pic = new CascadedPic8259A();
        pic.Write(0x21, 1, 0xFF);
        pic = InitializedPair();
        Assert.AreEqual(0u, pic.Read(0x21, 1), "ICW1 clears the IMR");
        Assert.AreEqual(0u, pic.Read(0xA1, 1));
        Assert.IsTrue(pic.Master.Initialized && pic.Slave.Initialized);

        pic.SetIrqLevel(3, true);
        Assert.IsTrue(pic.InterruptPending);
        Assert.AreEqual((byte)(MasterBase + 3), pic.Acknowledge());
    }

    [TestMethod]
    public void MaskedRequestStaysInIrrWithoutInterrupting()
    {
        var pic = InitializedPair();
        pic.Write(0x21, 1, 0x08);
        pic.SetIrqLevel(3, true);
        Assert.IsFalse(pic.InterruptPending);
        Assert.AreEqual(0x08, ReadIrr(pic, 0x20));
        pic.Write(0x21, 1, 0x00);
        Assert.IsTrue(pic.InterruptPending);
        Assert.AreEqual((byte)(MasterBase + 3), pic.Acknowledge());
        Assert.AreEqual(0, ReadIrr(pic, 0x20), "INTA clears an edge-triggered request");
        Assert.AreEqual(0x08, ReadIsr(pic, 0x20));
    }

    [TestMethod]
    public void FullyNestedPriorityAndNonSpecificEoi()
    {
        var pic = InitializedPair();
        pic.SetIrqLevel(5, true);
        pic.SetIrqLevel(1, true);
        Assert.AreEqual((byte)(MasterBase + 1), pic.Acknowledge(), "IR1 has priority over IR5");
        Assert.IsFalse(pic.InterruptPending, "IR5 may not interrupt the higher-priority IR1 in service");
        pic.Write(0x20, 1, 0x20);
        Assert.AreEqual(0, ReadIsr(pic, 0x20));
        Assert.IsTrue(pic.InterruptPending);
        Assert.AreEqual((byte)(MasterBase + 5), pic.Acknowledge());

        pic.SetIrqLevel(0, true);
        Assert.IsTrue(pic.InterruptPending, "IR0 nests over IR5 in service");
        Assert.AreEqual((byte)MasterBase, pic.Acknowledge());
        Assert.AreEqual(0x21, ReadIsr(pic, 0x20));
        pic.Write(0x20, 1, 0x20);
        Assert.AreEqual(0x20, ReadIsr(pic, 0x20), "a non-specific EOI resets the highest-priority ISR bit");
    }

    [TestMethod]
    public void SpecificEoiResetsTheNamedLevel()
    {
        var pic = InitializedPair();
        pic.SetIrqLevel(6, true);
        pic.Acknowledge();
        pic.SetIrqLevel(4, true);
        pic.Acknowledge();
        Assert.AreEqual(0x50, ReadIsr(pic, 0x20));
        pic.Write(0x20, 1, 0x60 | 6);
        Assert.AreEqual(0x10, ReadIsr(pic, 0x20));
    }

    [TestMethod]
    public void SetPriorityCommandRotatesPriorities()
    {
        var pic = InitializedPair();
        pic.Write(0x20, 1, 0xC0 | 2);
        pic.SetIrqLevel(1, true);
        pic.SetIrqLevel(3, true);
        Assert.AreEqual((byte)(MasterBase + 3), pic.Acknowledge(), "with IR2 lowest, IR3 is highest");
    }

    [TestMethod]
    public void CascadedRequestGoesThroughMasterIr2()
    {
        var pic = InitializedPair();
        pic.SetIrqLevel(10, true);
        Assert.IsTrue(pic.InterruptPending);
        Assert.AreEqual((byte)(SlaveBase + 2), pic.Acknowledge());
        Assert.AreEqual(0x04, ReadIsr(pic, 0x20), "the master marks its cascade input in service");
        Assert.AreEqual(0x04, ReadIsr(pic, 0xA0));
        pic.Write(0xA0, 1, 0x20);
        pic.Write(0x20, 1, 0x20);
        Assert.AreEqual(0, ReadIsr(pic, 0x20));
        Assert.AreEqual(0, ReadIsr(pic, 0xA0));
    }

    [TestMethod]
    public void SlaveMaskBlocksTheCascade()
    {
        var pic = InitializedPair();
        pic.Write(0xA1, 1, 0x01);
        pic.SetIrqLevel(8, true);
        Assert.IsFalse(pic.InterruptPending);
        pic.Write(0xA1, 1, 0x00);
        Assert.IsTrue(pic.InterruptPending);
        Assert.AreEqual(SlaveBase, pic.Acknowledge());
    }

    [TestMethod]
    public void VanishedMasterRequestIsSpuriousIrq7WithoutIsr()
    {
        var pic = InitializedPair();
        pic.Write(0x4D0, 1, 0x10);
        pic.SetIrqLevel(4, true);
        Assert.IsTrue(pic.InterruptPending);
        pic.SetIrqLevel(4, false);
        Assert.AreEqual((byte)(MasterBase + 7), pic.Acknowledge());
        Assert.AreEqual(0, ReadIsr(pic, 0x20));
    }

    [TestMethod]
    public void VanishedSlaveRequestIsSpuriousIrq15WithMasterIr2InService()
    {
        var pic = InitializedPair();
        pic.Write(0x4D1, 1, 0x08);
        pic.SetIrqLevel(11, true);
        pic.SetIrqLevel(11, false);
        Assert.IsTrue(pic.InterruptPending, "the master latched the cascade edge");
        Assert.AreEqual((byte)(SlaveBase + 7), pic.Acknowledge());
        Assert.AreEqual(0, ReadIsr(pic, 0xA0));
        Assert.AreEqual(0x04, ReadIsr(pic, 0x20));
    }

    [TestMethod]
    public void EdgeTriggeredInputNeedsANewRisingEdge()
    {
        var pic = InitializedPair();
        pic.SetIrqLevel(3, true);
        pic.Acknowledge();
        pic.Write(0x20, 1, 0x20);
        pic.SetIrqLevel(3, true);
        Assert.IsFalse(pic.InterruptPending, "a line that stays high is one edge");
        pic.SetIrqLevel(3, false);
        pic.SetIrqLevel(3, true);
        Assert.IsTrue(pic.InterruptPending);
    }

    [TestMethod]
    public void LevelTriggeredInputRequestsAgainAfterEoiWhileHigh()
    {
        var pic = InitializedPair();
        pic.Write(0x4D0, 1, 0x20);
        Assert.AreEqual(0x20u, pic.Read(0x4D0, 1));
        pic.SetIrqLevel(5, true);
        pic.Acknowledge();
        pic.Write(0x20, 1, 0x20);
        Assert.IsTrue(pic.InterruptPending);
        pic.SetIrqLevel(5, false);
        Assert.IsFalse(pic.InterruptPending);
    }

    [TestMethod]
    public void ElcrBitsOfIrq0To2And8And13AreReserved()
    {
        var pic = new CascadedPic8259A();
        pic.Write(0x4D0, 1, 0xFF);
        pic.Write(0x4D1, 1, 0xFF);
        Assert.AreEqual(0xF8u, pic.Read(0x4D0, 1));
        Assert.AreEqual(0xDEu, pic.Read(0x4D1, 1));
    }

    [TestMethod]
    public void AutoEoiLeavesIsrClear()
    {
        var pic = InitializedPair(icw4: 0x03);
        pic.SetIrqLevel(1, true);
        Assert.AreEqual((byte)(MasterBase + 1), pic.Acknowledge());
        Assert.AreEqual(0, ReadIsr(pic, 0x20));
        pic.SetIrqLevel(6, true);
        Assert.IsTrue(pic.InterruptPending);
    }

    [TestMethod]
    public void PollCommandReturnsTheLevelAndActsAsInta()
    {
        var pic = InitializedPair();
        pic.SetIrqLevel(6, true);
        pic.Write(0x20, 1, 0x0C);
        Assert.AreEqual(0x86u, pic.Read(0x20, 1));
        Assert.AreEqual(0x40, ReadIsr(pic, 0x20));
        pic.Write(0x20, 1, 0x0C);
        Assert.AreEqual(0u, pic.Read(0x20, 1), "no request: bit 7 clear");
    }

    [TestMethod]
    public void RisingIntrIsSignalled()
    {
        var pic = InitializedPair();
        var raised = 0;
        pic.InterruptRaised = () => raised++;
        pic.Write(0x21, 1, 0x01);
        pic.SetIrqLevel(0, true);
        Assert.AreEqual(0, raised);
        pic.Write(0x21, 1, 0x00);
        Assert.AreEqual(1, raised);
    }
}
