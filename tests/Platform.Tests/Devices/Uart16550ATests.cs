using Sim.Platform.Devices;

namespace Sim.Platform.Tests.Devices;

/// <summary>The 16550A against the PC16550D datasheet's register descriptions.</summary>
[TestClass]
public sealed class Uart16550ATests
{
    private const ushort Com1 = 0x3F8;
    private const ushort Thr = Com1, Ier = Com1 + 1, Iir = Com1 + 2, Fcr = Com1 + 2, Lcr = Com1 + 3, Mcr = Com1 + 4, Lsr = Com1 + 5, Msr = Com1 + 6, Scr = Com1 + 7;

    [TestMethod]
    public void DlabSelectsTheDivisorLatch()
    {
        var output = new CapturedOutput();
        var uart = new Uart16550A(output);
        uart.Write(Lcr, 1, 0x83);
        uart.Write(Thr, 1, 0x01);
        uart.Write(Ier, 1, 0x00);
        Assert.AreEqual(1, uart.DivisorLatch);
        Assert.AreEqual(0x01u, uart.Read(Thr, 1));
        uart.Write(Lcr, 1, 0x03);
        Assert.AreEqual(0x03u, uart.Read(Lcr, 1));
        uart.Write(Thr, 1, 'O');
        uart.Write(Thr, 1, 'K');
        Assert.AreEqual("OK", output.ToString());
        Assert.AreEqual(0u, uart.Read(Ier, 1), "the divisor write did not touch IER");
    }

    [TestMethod]
    public void EveryByteLeavesTheLineAsItIs()
    {
        var output = new CapturedOutput();
        var uart = new Uart16550A(output);
        foreach (var b in new byte[] { 0x41, 0x80, 0xAE, 0xFF, 0x00, 0x0A }) uart.Write(Thr, 1, b);
        CollectionAssert.AreEqual(new byte[] { 0x41, 0x80, 0xAE, 0xFF, 0x00, 0x0A }, output.ToArray(), "one byte on the line per THR write, no text encoding");
    }

    [TestMethod]
    public void LineStatusTransmitterAlwaysReadyAndDataReadyWithInput()
    {
        var uart = new Uart16550A(Stream.Null, new Queue<byte>());
        Assert.AreEqual(0x60u, uart.Read(Lsr, 1), "THRE and TEMT");
        uart.EnqueueInput("hi"u8);
        Assert.AreEqual(0x61u, uart.Read(Lsr, 1));
        Assert.AreEqual((uint)'h', uart.Read(Thr, 1));
        Assert.AreEqual((uint)'i', uart.Read(Thr, 1));
        Assert.AreEqual(0x60u, uart.Read(Lsr, 1));
    }

    [TestMethod]
    public void LoopbackReturnsTransmittedBytesAndModemLines()
    {
        var output = new CapturedOutput();
        var uart = new Uart16550A(output);
        uart.Write(Mcr, 1, 0x10);
        uart.Write(Thr, 1, 0xAE);
        Assert.AreEqual("", output.ToString(), "nothing leaves the chip in loopback");
        Assert.AreEqual(0x01u, uart.Read(Lsr, 1) & 0x01);
        Assert.AreEqual(0xAEu, uart.Read(Thr, 1));
        uart.Read(Msr, 1);
        uart.Write(Mcr, 1, 0x1F);
        Assert.AreEqual(0xF0u, uart.Read(Msr, 1) & 0xF0, "CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2");
        uart.Write(Mcr, 1, 0x10);
        Assert.AreEqual(0x0Fu, uart.Read(Msr, 1) & 0x0F, "delta CTS, DSR, DCD and trailing-edge RI");
        Assert.AreEqual(0x00u, uart.Read(Msr, 1));
    }

    [TestMethod]
    public void OverrunInLoopbackWithoutFifo()
    {
        var uart = new Uart16550A(Stream.Null);
        uart.Write(Mcr, 1, 0x10);
        uart.Write(Thr, 1, 1);
        uart.Write(Thr, 1, 2);
        Assert.AreEqual(0x03u, uart.Read(Lsr, 1) & 0x03, "DR and OE");
        Assert.AreEqual(0x01u, uart.Read(Lsr, 1) & 0x03, "reading LSR clears OE");
        Assert.AreEqual(1u, uart.Read(Thr, 1));
    }

    [TestMethod]
    public void InterruptIdentificationPrioritiesAndFifoBits()
    {
        var uart = new Uart16550A(Stream.Null);
        Assert.AreEqual(0x01u, uart.Read(Iir, 1), "no interrupt pending");
        uart.Write(Ier, 1, 0x02);
        Assert.AreEqual(0x02u, uart.Read(Iir, 1), "THR empty");
        Assert.AreEqual(0x01u, uart.Read(Iir, 1), "reading IIR cleared the THRE interrupt");
        uart.Write(Ier, 1, 0x03);
        uart.EnqueueInput([0x41]);
        Assert.AreEqual(0x04u, uart.Read(Iir, 1), "received data outranks THRE");
        uart.Read(Thr, 1);
        uart.Write(Fcr, 1, 0x47);
        Assert.AreEqual(0xC1u, uart.Read(Iir, 1) & 0xCF, "FIFOs enabled");
        uart.EnqueueInput([1, 2]);
        Assert.AreEqual(0xCCu, uart.Read(Iir, 1), "below the trigger level of 4: character timeout");
        uart.EnqueueInput([3, 4]);
        Assert.AreEqual(0xC4u, uart.Read(Iir, 1), "at the trigger level: received data available");
    }

    [TestMethod]
    public void Out2GatesTheInterruptLine()
    {
        var uart = new Uart16550A(Stream.Null);
        var level = false;
        uart.IrqLevel = l => level = l;
        uart.Write(Ier, 1, 0x02);
        Assert.IsFalse(level, "OUT2 clear: the line is not driven");
        uart.Write(Mcr, 1, 0x08);
        Assert.IsTrue(level);
        uart.Read(Iir, 1);
        Assert.IsFalse(level);
        uart.Write(Thr, 1, (byte)'x');
        Assert.IsTrue(level, "THR empties again after the write");
    }

    [TestMethod]
    public void ScratchRegisterHoldsAByte()
    {
        var uart = new Uart16550A(Stream.Null);
        uart.Write(Scr, 1, 0x5A);
        Assert.AreEqual(0x5Au, uart.Read(Scr, 1));
    }
}
