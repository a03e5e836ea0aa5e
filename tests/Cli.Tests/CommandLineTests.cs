using Iced.Intel;
using Sim.Images.Guests;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cli.Tests.SimInvocation;

namespace Sim.Cli.Tests;

/// <summary>The `sim` command as a user meets it: output, exit status, and one clear line for bad input.</summary>
[TestClass]
public sealed class CommandLineTests
{
    [TestMethod]
    public void RunWithoutAnImageRunsTheDemoGuestAndExitsThroughTheBochsShutdownPort()
    {
        var (exit, output, error) = Invoke("run");
        Assert.AreEqual(0, exit, error);
        Assert.AreEqual(new DemoGuest().ExpectedOutput(), output);
        Assert.AreEqual("", error);
    }

    [TestMethod]
    public void DebugConsoleCanBeSentToStandardErrorBesideTheSerialConsole()
    {
        var (exit, output, error) = Invoke("run", "--debugcon", "stderr");
        Assert.AreEqual(0, exit);
        Assert.AreEqual(new DemoGuest().ExpectedOutput(), output);
        Assert.AreEqual(new DemoGuest().ExpectedOutput(), error);
    }

    [TestMethod]
    public void StatsGoToStandardError()
    {
        var (exit, _, error) = Invoke("run", "--stats");
        Assert.AreEqual(0, exit);
        StringAssert.Contains(error, "MIPS");
        StringAssert.Contains(error, "instructions");
        StringAssert.Contains(error, "simulated cycles");
        StringAssert.Contains(error, "VM exits");
    }

    [TestMethod]
    public void TheDemoGuestRunsOnAnAmdMachineToo()
    {
        var (exit, output, error) = Invoke("run", "--vendor", "amd");
        Assert.AreEqual(0, exit, error);
        Assert.AreEqual(new DemoGuest().ExpectedOutput(), output);
    }

    [TestMethod]
    public void TheVmxHypervisorGuestRunsOnTheDefaultIntelMachine()
    {
        // Success ends through Bochs' shutdown port: exit status 0 (README, exit status table).
        var (exit, output, error) = Invoke("run", "--guest", "vmx");
        Assert.AreEqual(0, exit, error);
        Assert.AreEqual(new VmxHypervisorGuest().ExpectedOutput(), output);
        Assert.AreEqual("", error);
    }

    [TestMethod]
    public void TheSvmHypervisorGuestRunsOnAnAmdMachine()
    {
        var (exit, output, error) = Invoke("run", "--guest", "svm", "--vendor", "amd");
        Assert.AreEqual(0, exit, error);
        Assert.AreEqual(new SvmHypervisorGuest().ExpectedOutput(), output);
        Assert.AreEqual("", error);
    }

    [TestMethod]
    public void StatsCountTheVmExitsOfAHypervisorGuest()
    {
        // The vmx guest's log has nine exits: CPUID, EPT violation, I/O, HLT in real mode; EPT violation, CPUID, EPT violation, I/O, HLT in 64-bit mode.
        var (exit, _, error) = Invoke("run", "--guest", "vmx", "--stats");
        Assert.AreEqual(0, exit, error);
        StringAssert.Matches(error, new System.Text.RegularExpressions.Regex(@"VM exits\s*│\s*9\s*│"));
    }

    [TestMethod]
    public void HypervisorGuestsOnTheWrongVendorSayWhatIsMissingAndFailThroughTheExitPort()
    {
        // The guest writes 1 to port 0xF4: exit status (1 << 1) | 1 (README, exit status table).
        var (exit, output, error) = Invoke("run", "--guest", "svm");
        Assert.AreEqual(3, exit, error);
        Assert.AreEqual(SvmHypervisorGuest.NoSvmOutput, output);
        Assert.AreEqual("", error);

        (exit, output, error) = Invoke("run", "--guest", "vmx", "--vendor", "amd");
        Assert.AreEqual(3, exit, error);
        Assert.AreEqual(VmxHypervisorGuest.NoVmxOutput, output);
        Assert.AreEqual("", error);
    }

    [TestMethod]
    public void AnUnknownVendorIsOneLineAndStatus2()
    {
        var (exit, _, error) = Invoke("run", "--vendor", "cyrix");
        Assert.AreEqual(2, exit);
        AssertOneLine(error);
    }

    [TestMethod]
    public void InstructionLimitEndsTheRunWithStatus8()
    {
        var (exit, _, error) = Invoke("run", "--guest", "bench32", "--max-instructions", "100000");
        Assert.AreEqual(8, exit);
        AssertOneLine(error);
    }

    [TestMethod]
    public void ATripleFaultEndsTheRunWithStatus4AndOneLine()
    {
        // Real mode: LIDT [7D00h] loads limit 0 from zeroed memory; INT3 then raises #GP, its delivery #DF, and that a triple fault.
        byte[] code = [0x0F, 0x01, 0x1E, 0x00, 0x7D, 0xCC, 0xF4];
        var path = TempFile(code, ".bin");
        try
        {
            var (exit, _, error) = Invoke("run", path, "--format", "Raw", "--load-address", "0x7C00");
            Assert.AreEqual(4, exit);
            AssertOneLine(error);
            StringAssert.Contains(error, "triple fault");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void AMissingImageIsOneLineAndStatus2()
    {
        var (exit, _, error) = Invoke("run", "/nonexistent/kernel.elf");
        Assert.AreEqual(2, exit);
        AssertOneLine(error);
    }

    [TestMethod]
    public void AMalformedElfIsOneLineAndStatus2()
    {
        var path = TempFile([0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0], ".elf");
        try
        {
            var (exit, _, error) = Invoke("run", path);
            Assert.AreEqual(2, exit);
            AssertOneLine(error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    [DataRow("--memory", "12Q")]
    [DataRow("--memory", "0")]
    [DataRow("--cpus", "0")]
    [DataRow("--guest", "nosuchguest")]
    [DataRow("--load-address", "zz")]
    [DataRow("--cpus", "abc")]
    [DataRow("--no-such-option", "1")]
    public void BadOptionValuesAreOneLineAndStatus2(string option, string value)
    {
        var (exit, _, error) = Invoke("run", option, value);
        Assert.AreEqual(2, exit);
        AssertOneLine(error);
    }

    [TestMethod]
    public void AnUnknownCommandIsOneLineAndStatus2()
    {
        var (exit, _, error) = Invoke("bogus");
        Assert.AreEqual(2, exit);
        AssertOneLine(error);
    }

    [TestMethod]
    public void ImageCommandWritesABootableFloppy()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sim-cli-test-{Guid.NewGuid():N}.img");
        try
        {
            var (exit, _, _) = Invoke("image", "demo", "-o", path);
            Assert.AreEqual(0, exit);
            var bytes = File.ReadAllBytes(path);
            Assert.AreEqual(1474560, bytes.Length);
            Assert.AreEqual(0x55, bytes[510]);
            Assert.AreEqual(0xAA, bytes[511]);
            var (runExit, output, _) = Invoke("run", path);
            Assert.AreEqual(0, runExit);
            Assert.AreEqual(new DemoGuest().ExpectedOutput(), output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ImageCommandPutsAPayloadBehindTheBootSector()
    {
        // 32-bit code as the boot sector enters it at 0x10000: "p" to port E9h, then Bochs' shutdown port.
        var asm = new Assembler(32);
        asm.mov(dx, 0xE9);
        asm.mov(al, (byte)'p');
        asm.@out(dx, al);
        asm.mov(dx, 0x8900);
        foreach (var c in "Shutdown")
        {
            asm.mov(al, (byte)c);
            asm.@out(dx, al);
        }
        asm.hlt();
        var code = new MemoryStream();
        asm.Assemble(new StreamCodeWriter(code), 0x10000);
        var payload = Path.Combine(Path.GetTempPath(), $"sim-cli-test-{Guid.NewGuid():N}.bin");
        var image = Path.ChangeExtension(payload, ".img");
        try
        {
            File.WriteAllBytes(payload, code.ToArray());
            var (exit, _, _) = Invoke("image", "--payload", payload, "-o", image);
            Assert.AreEqual(0, exit);
            var bytes = File.ReadAllBytes(image);
            Assert.AreEqual(1474560, bytes.Length);
            CollectionAssert.AreEqual(code.ToArray(), bytes.AsSpan(512, (int)code.Length).ToArray(), "the payload follows the boot sector");
            var (runExit, output, error) = Invoke("run", image, "--debugcon", "stdout");
            Assert.AreEqual(0, runExit, error);
            Assert.AreEqual("p", output);
        }
        finally
        {
            File.Delete(payload);
            File.Delete(image);
        }
    }
}
