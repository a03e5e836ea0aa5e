using Sim.Images.Guests;
using static Sim.Cli.Tests.SimInvocation;

namespace Sim.Cli.Tests;

/// <summary>Bad input a user can give `sim run` and `sim image`: one line on stderr and status 2, never an internal error.</summary>
[TestClass]
public sealed class BadInputTests
{
    /// <summary>Real mode at 0000:7C00: writes AEh, FFh and a newline to COM1, then 0 to the exit port (status 1).</summary>
    public static readonly byte[] HighBytesGuest = [0xBA, 0xF8, 0x03, 0xB0, 0xAE, 0xEE, 0xB0, 0xFF, 0xEE, 0xB0, 0x0A, 0xEE, 0xB0, 0x00, 0xE6, 0xF4, 0xF4];

    private static void AssertBadInput(string containing, params string[] args)
    {
        var (exit, _, error) = Invoke(args);
        Assert.AreEqual(2, exit, error);
        AssertOneLine(error);
        StringAssert.Contains(error, containing);
    }

    [TestMethod]
    [DataRow("--memory", "1M", "below the 2 MiB")]
    [DataRow("--memory", "3001K", "whole number of 4 KiB pages")]
    [DataRow("--memory", "65G", "above the 64 GiB")]
    [DataRow("--memory", "99999999999G", "too large")]
    [DataRow("--vendor", "5", "'5' is not a valid value for --vendor")]
    [DataRow("--format", "5", "'5' is not a valid value for --format")]
    public void OptionValuesOutsideWhatTheMachineTakesAreRefused(string option, string value, string containing) =>
        AssertBadInput(containing, "run", option, value);

    [TestMethod]
    public void EnumOptionsStillTakeTheirNamesInAnyCase()
    {
        var (exit, _, error) = Invoke("run", "--vendor", "amd", "--max-instructions", "10");
        Assert.AreEqual(8, exit, error);
    }

    [TestMethod]
    public void AnUnknownOptionIsNotTakenAsTheImage() => AssertBadInput("unknown option '--bogus'", "run", "--bogus");

    [TestMethod]
    public void ADirectoryAsImageIsNamedAsOne() => AssertBadInput("is a directory", "run", Path.GetTempPath());

    [TestMethod]
    public void AnEndlessFileIsReadOnlyUpToTheRamSize() => AssertBadInput("does not end within the guest's RAM size", "run", "/dev/zero", "--memory", "2M");

    [TestMethod]
    public void AnEndlessModuleIsReadOnlyUpToTheRamSize()
    {
        var kernel = TempFile(new DemoGuest().ToMultibootKernel(), ".elf");
        try
        {
            AssertBadInput("cannot read module", "run", kernel, "--module", "/dev/urandom", "--memory", "4M");
        }
        finally
        {
            File.Delete(kernel);
        }
    }

    [TestMethod]
    public void AFifoWithoutWriterIsEmptyInsteadOfBlocking()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("FIFOs are made here with mkfifo(1)");
        var fifo = TempPath(".fifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo)) mkfifo.WaitForExit();
        try
        {
            AssertBadInput("file is empty", "run", fifo, "--max-instructions", "100");
        }
        finally
        {
            File.Delete(fifo);
        }
    }

    [TestMethod]
    public void ImageWithAnEmptyOutputNameIsOneLine() => AssertBadInput("the output file name is empty", "image", "demo", "-o", "");

    [TestMethod]
    public void ImagePayloadProblemsAreOneLine()
    {
        var empty = TempFile([], ".bin");
        var payload = TempFile([0xF4], ".bin");
        try
        {
            AssertBadInput("cannot read", "image", "--payload", TempPath(".bin"), "-o", TempPath(".img"));
            AssertBadInput("the boot sector loads 1 to", "image", "--payload", empty, "-o", TempPath(".img"));
            AssertBadInput("give a built-in guest or --payload, not both", "image", "demo", "--payload", payload, "-o", TempPath(".img"));
            AssertBadInput("--iterations applies to the bench32 and bench64 guests only", "image", "--payload", payload, "-o", TempPath(".img"), "--iterations", "5");
        }
        finally
        {
            File.Delete(empty);
            File.Delete(payload);
        }
    }

    [TestMethod]
    public void OptionsThatTheImageDoesNotUseAreRefused()
    {
        var raw = TempFile(HighBytesGuest, ".bin");
        var elf = TempFile(new DemoGuest().ToMultibootKernel(), ".elf");
        try
        {
            AssertBadInput("--floppy applies to the built-in guests only", "run", raw, "--floppy");
            AssertBadInput("--iterations applies to the bench32 and bench64 guests only", "run", raw, "--iterations", "5");
            AssertBadInput("--iterations applies to the bench32 and bench64 guests only", "run", "--guest", "demo", "--iterations", "5");
            AssertBadInput("--iterations applies to the bench32 and bench64 guests only", "image", "vmx", "-o", TempPath(".img"), "--iterations", "5");
            AssertBadInput("--load-address applies to image files only", "run", "--load-address", "0x7c00");
            AssertBadInput("--module applies to image files only", "run", "--module", raw);
            AssertBadInput("--cmdline applies to image files only", "run", "--guest", "vmx", "--cmdline", "x");
            AssertBadInput("--format applies to image files only", "run", "--format", "Raw");
            AssertBadInput("a load address applies to raw images only", "run", elf, "--load-address", "0x100000");
            AssertBadInput("modules apply to Multiboot kernels only", "run", raw, "--load-address", "0x7c00", "--module", elf);
            AssertBadInput("a command line applies to Multiboot kernels only", "run", raw, "--load-address", "0x7c00", "--cmdline", "quiet");
        }
        finally
        {
            File.Delete(raw);
            File.Delete(elf);
        }
    }

    [TestMethod]
    public void AnImageThatLeavesNoRoomForThePlatformAreaIsOneLine()
    {
        // 32-bit raw image from 1 MiB to the end of a 2 MiB machine: the platform's GDT has nowhere to go.
        var raw = TempFile(new byte[0x100000], ".bin");
        try
        {
            AssertBadInput("no free 64 KiB", "run", raw, "--format", "Raw", "--load-address", "0x100000", "--memory", "2M");
        }
        finally
        {
            File.Delete(raw);
        }
    }

    [TestMethod]
    public void AnImageInTheTopOfRamRunsWithThePlatformAreaBelowIt()
    {
        // 32-bit code at 2 MiB - 4 KiB, where the platform used to put its page tables: mov al,2Ah; out F4h,al.
        var raw = TempFile([0xB0, 0x2A, 0xE6, 0xF4, 0xF4], ".bin");
        try
        {
            var (exit, _, error) = Invoke("run", raw, "--format", "Raw", "--load-address", "0x1FF000", "--memory", "2M");
            Assert.AreEqual((0x2A << 1) | 1, exit, error);
        }
        finally
        {
            File.Delete(raw);
        }
    }

    [TestMethod]
    public void ALargeRamIsReservedNotTouched()
    {
        // 32 GiB more than this machine may have free: the host commits only what the guest touches.
        var (exit, output, error) = Invoke("run", "--memory", "32G");
        Assert.AreEqual(0, exit, error);
        Assert.AreEqual(new DemoGuest().ExpectedOutput(), output);
    }
}
