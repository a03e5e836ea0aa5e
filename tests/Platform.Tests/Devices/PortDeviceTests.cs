using Sim.Platform.Devices;

namespace Sim.Platform.Tests.Devices;

[TestClass]
public sealed class PortDeviceTests
{
    [TestMethod]
    public void TheLastPortCanBeClaimedAlone()
    {
        // The port space ends at FFFFh: claiming it must not wrap round to port 0.
        var bus = new IoBus();
        var last = new DebugExitPort(new MachineControl());
        bus.Register(0xFFFF, 1, last);
        Assert.AreSame(last, bus.DeviceAt(0xFFFF));
        Assert.IsNull(bus.DeviceAt(0x0000));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => bus.Register(0xFFFF, 2, last));
    }

    [TestMethod]
    public void UnclaimedPortsReadAllOnesAndIgnoreWrites()
    {
        var bus = new IoBus();
        bus.Write(0x1234, 4, 0);
        Assert.AreEqual(0xFFu, bus.Read(0x1234, 1));
        Assert.AreEqual(0xFFFFu, bus.Read(0x1234, 2));
        Assert.AreEqual(0xFFFF_FFFFu, bus.Read(0x1234, 4));
    }

    [TestMethod]
    public void RegisteredDeviceReceivesItsPortsAndOverlapsAreRejected()
    {
        var bus = new IoBus();
        var post = new PostCodePort();
        bus.Register(0x80, 1, post);
        bus.Write(0x80, 1, 0x42);
        Assert.AreEqual(0x42, post.LastValue);
        Assert.AreEqual(0x42u, bus.Read(0x80, 1));
        Assert.ThrowsExactly<InvalidOperationException>(() => bus.Register(0x7F, 2, new PostCodePort()));
    }

    [TestMethod]
    [DataRow(0x00u, 1)]
    [DataRow(0x10u, 0x21)]
    [DataRow(0x7Fu, 0xFF)]
    public void DebugExitStatusIsValueShiftedWithLowBitSet(uint value, int status)
    {
        var control = new MachineControl();
        new DebugExitPort(control).Write(0xF4, 1, value);
        Assert.AreEqual(RunOutcome.DebugExit, control.Outcome);
        Assert.AreEqual(status, control.ExitCode);
    }

    [TestMethod]
    public void FirstStopRequestWinsAndStopsTheRunningProcessor()
    {
        var control = new MachineControl();
        var stops = 0;
        control.StopRunning = () => stops++;
        new DebugExitPort(control).Write(0xF4, 1, 3);
        new BochsShutdownPort(control);
        control.RequestReset("test");
        Assert.AreEqual(RunOutcome.DebugExit, control.Outcome);
        Assert.AreEqual(7, control.ExitCode);
        Assert.AreEqual(1, stops);
    }

    [TestMethod]
    public void BochsShutdownNeedsTheWholeString()
    {
        var control = new MachineControl();
        var port = new BochsShutdownPort(control);
        foreach (var c in "ShutXShutdow") port.Write(0x8900, 1, c);
        Assert.IsNull(control.Outcome);
        port.Write(0x8900, 1, 'n');
        Assert.AreEqual(RunOutcome.BochsShutdown, control.Outcome);
        Assert.AreEqual(0, control.ExitCode);
    }

    [TestMethod]
    public void DebugConsoleEchoesBytesAndIdentifiesItself()
    {
        var output = new CapturedOutput();
        var port = new DebugConsolePort(output);
        port.Write(0xE9, 1, 'h');
        port.Write(0xE9, 1, 'i');
        Assert.AreEqual("hi", output.ToString());
        Assert.AreEqual(0xE9u, port.Read(0xE9, 1));
        port.Write(0xE9, 1, 0xE4);
        CollectionAssert.AreEqual(new byte[] { (byte)'h', (byte)'i', 0xE4 }, output.ToArray(), "a byte above 7Fh is written as it is");
    }

    [TestMethod]
    public void PortAControlsA20AndResetsOnARisingBit0()
    {
        var control = new MachineControl();
        var a20 = new A20Gate { FromKeyboardController = false };
        var changes = new List<bool>();
        a20.Changed = changes.Add;
        var port = new SystemControlPortA(a20, control);
        port.Write(0x92, 1, 0x02);
        Assert.IsTrue(a20.Enabled);
        Assert.AreEqual(0x02u, port.Read(0x92, 1));
        port.Write(0x92, 1, 0x00);
        CollectionAssert.AreEqual(new[] { true, false }, changes);
        Assert.IsNull(control.Outcome);
        port.Write(0x92, 1, 0x01);
        Assert.AreEqual(RunOutcome.Reset, control.Outcome);
    }

    [TestMethod]
    [DataRow(0x06u)]
    [DataRow(0x0Eu)]
    public void ResetControlRegisterResetsOnRstCpu(uint value)
    {
        var control = new MachineControl();
        var port = new ResetControlRegister(control);
        port.Write(0xCF9, 1, 0x02);
        Assert.IsNull(control.Outcome);
        port.Write(0xCF9, 1, value);
        Assert.AreEqual(RunOutcome.Reset, control.Outcome);
        Assert.AreEqual(RunResult.ResetExitCode, control.ExitCode);
    }

    [TestMethod]
    public void KeyboardControllerOutputPortDrivesA20AndReset()
    {
        var control = new MachineControl();
        var a20 = new A20Gate();
        var kbc = new KeyboardController8042(a20, control);
        kbc.Write(0x64, 1, 0xD1);
        kbc.Write(0x60, 1, 0x01);
        Assert.IsFalse(a20.Enabled);
        kbc.Write(0x64, 1, 0xD0);
        Assert.AreEqual(0x01u, kbc.Read(0x64, 1) & 0x01, "output buffer full");
        Assert.AreEqual(0x01u, kbc.Read(0x60, 1));
        kbc.Write(0x64, 1, 0xDF);
        Assert.IsTrue(a20.Enabled);
        kbc.Write(0x64, 1, 0xAA);
        Assert.AreEqual(0x55u, kbc.Read(0x60, 1));
        Assert.IsNull(control.Outcome);
        kbc.Write(0x64, 1, 0xFE);
        Assert.AreEqual(RunOutcome.Reset, control.Outcome);
    }
}
