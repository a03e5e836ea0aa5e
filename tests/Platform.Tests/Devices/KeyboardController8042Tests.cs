using Sim.Platform.Devices;

namespace Sim.Platform.Tests.Devices;

[TestClass]
public sealed class KeyboardController8042Tests
{
    [TestMethod]
    public void RepliesNobodyReadsDoNotPileUp()
    {
        // A guest that sends commands and never reads: the replies wait in the keyboard's 16-byte
        // buffer (IBM PS/2 keyboard technical reference) and the rest are lost.
        var kbc = new KeyboardController8042(new A20Gate(), new MachineControl());
        for (var i = 0; i < 1_000_000; i++) kbc.Write(0x64, 1, 0x20);
        var read = 0;
        while ((kbc.Read(0x64, 1) & 0x01) != 0)
        {
            Assert.AreEqual(0x45u, kbc.Read(0x60, 1));
            read++;
        }
        Assert.AreEqual(16, read);
    }

    [TestMethod]
    public void TheOutputBufferKeepsItsLastByte()
    {
        var kbc = new KeyboardController8042(new A20Gate(), new MachineControl());
        kbc.Write(0x64, 1, 0xAA);
        Assert.AreEqual(0x55u, kbc.Read(0x60, 1));
        Assert.AreEqual(0u, kbc.Read(0x64, 1) & 0x01);
        Assert.AreEqual(0x55u, kbc.Read(0x60, 1), "reading with OBF clear returns the buffer's contents again");
    }
}
