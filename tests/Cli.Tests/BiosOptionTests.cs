using static Sim.Cli.Tests.SimInvocation;

namespace Sim.Cli.Tests;

/// <summary>`sim run --bios FILE` (a ROM in place of sim's firmware, as QEMU's -bios) and `--feature-control`.</summary>
[TestClass]
public sealed class BiosOptionTests
{
    private static void AssertBadInput(string containing, params string[] args)
    {
        var (exit, _, error) = Invoke(args);
        Assert.AreEqual(2, exit, error);
        AssertOneLine(error);
        StringAssert.Contains(error, containing);
    }

    private static string Rom(byte[] content) => TempFile(content, ".rom");

    [TestMethod]
    public void TheRomRunsAndItsOutputReachesBothConsoles()
    {
        var rom = Rom(ResetVectorRom.Build());
        var debug = TempPath(".out");
        try
        {
            var (exit, output, error) = Invoke("run", "--bios", rom, "--debugcon", debug, "--cpus", "2");
            Assert.AreEqual(1, exit, error);
            Assert.AreEqual(ResetVectorRom.Output, output, "COM1");
            Assert.AreEqual(ResetVectorRom.Output, File.ReadAllText(debug), "port E9h");
            Assert.AreEqual("", error);
        }
        finally
        {
            File.Delete(rom);
            File.Delete(debug);
        }
    }

    [TestMethod]
    public void StatsNameTheRom()
    {
        var rom = Rom(ResetVectorRom.Build());
        try
        {
            var (exit, _, error) = Invoke("run", "--bios", rom, "--stats");
            Assert.AreEqual(1, exit, error);
            StringAssert.Contains(error, "BIOS ROM");
        }
        finally
        {
            File.Delete(rom);
        }
    }

    [TestMethod]
    [DataRow("empty", 0, "it is empty")]
    [DataRow("4 KiB", 4096, "not a multiple of 64 KiB")]
    [DataRow("64 KiB + 4 KiB", 69632, "not a multiple of 64 KiB")]
    [DataRow("17 MiB", 17 << 20, "larger than 16777216 bytes")]
    public void BadRomSizesAreRefused(string what, int size, string containing)
    {
        var rom = Rom(new byte[size]);
        try
        {
            AssertBadInput(containing, "run", "--bios", rom);
        }
        finally
        {
            File.Delete(rom);
        }
    }

    [TestMethod]
    public void ADirectoryIsRefused() => AssertBadInput("it is a directory", "run", "--bios", Path.GetTempPath());

    [TestMethod]
    public void AFileThatNeverEndsIsRefused() => AssertBadInput("larger than 16777216 bytes", "run", "--bios", "/dev/zero");

    [TestMethod]
    public void AMissingFileIsRefused() => AssertBadInput("cannot read the BIOS ROM", "run", "--bios", "/nonexistent/rom.bin");

    [TestMethod]
    [DataRow("takes no image or --guest", "--bios", "ROM", "IMAGE")]
    [DataRow("takes no image or --guest", "--bios", "ROM", "--guest", "demo")]
    [DataRow("--floppy does not apply with --bios", "--bios", "ROM", "--floppy")]
    [DataRow("--cmdline does not apply with --bios", "--bios", "ROM", "--cmdline", "x")]
    [DataRow("--feature-control does not apply with --bios", "--bios", "ROM", "--feature-control", "unlocked")]
    public void TheRomTakesNoImageGuestOrBootOption(string containing, params string[] args)
    {
        var rom = Rom(ResetVectorRom.Build());
        var image = TempFile(new byte[512], ".img");
        try
        {
            AssertBadInput(containing, ["run", .. args.Select(a => a switch { "ROM" => rom, "IMAGE" => image, _ => a })]);
        }
        finally
        {
            File.Delete(rom);
            File.Delete(image);
        }
    }

    [TestMethod]
    public void FeatureControlIsAnIntelOption() =>
        AssertBadInput("--feature-control applies to Intel processors only", "run", "--vendor", "amd", "--feature-control", "unlocked");

    [TestMethod]
    public void FeatureControlTakesNamesOnly() =>
        AssertBadInput("'1' is not a valid value for --feature-control", "run", "--feature-control", "1");

    [TestMethod]
    [DataRow("locked")]
    [DataRow("unlocked")]
    public void TheVmxGuestRunsWhateverTheFirmwareLeft(string setting)
    {
        // The guest enables and locks IA32_FEATURE_CONTROL itself when the firmware has not.
        var (exit, output, error) = Invoke("run", "--guest", "vmx", "--feature-control", setting);
        Assert.AreEqual(0, exit, error);
        StringAssert.Contains(output, "vmxoff");
    }
}
