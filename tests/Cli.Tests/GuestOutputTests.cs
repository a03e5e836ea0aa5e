using Sim.Images.Guests;
using static Sim.Cli.Tests.SimInvocation;

namespace Sim.Cli.Tests;

/// <summary>Where COM1 and port E9h output goes: the guest's bytes as they are, files opened only once the run starts, one writer per file.</summary>
[TestClass]
public sealed class GuestOutputTests
{
    private static readonly byte[] HighBytes = [0xAE, 0xFF, 0x0A];

    [TestMethod]
    public void BytesAbove7FhReachStandardOutputAsTheyAre()
    {
        var raw = TempFile(BadInputTests.HighBytesGuest, ".bin");
        try
        {
            var (exit, output, error) = Invoke("run", raw, "--load-address", "0x7c00");
            Assert.AreEqual(1, exit, error);
            CollectionAssert.AreEqual(HighBytes, System.Text.Encoding.Latin1.GetBytes(output), "one byte per byte the guest wrote, as QEMU writes them");
        }
        finally
        {
            File.Delete(raw);
        }
    }

    [TestMethod]
    public void BytesAbove7FhReachASerialFileAsTheyAre()
    {
        var raw = TempFile(BadInputTests.HighBytesGuest, ".bin");
        var serial = TempPath(".out");
        try
        {
            var (exit, _, error) = Invoke("run", raw, "--load-address", "0x7c00", "--serial", serial);
            Assert.AreEqual(1, exit, error);
            CollectionAssert.AreEqual(HighBytes, File.ReadAllBytes(serial));
        }
        finally
        {
            File.Delete(raw);
            File.Delete(serial);
        }
    }

    [TestMethod]
    public void OutputFilesAreUntouchedByARunThatFailsBeforeItStarts()
    {
        var serial = TempFile("keep serial"u8.ToArray(), ".out");
        var debug = TempFile("keep debug"u8.ToArray(), ".out");
        var absent = TempPath(".out");
        try
        {
            foreach (var args in new[]
            {
                new[] { "run", "/nonexistent/image.bin", "--serial", serial, "--debugcon", debug },
                ["run", "--memory", "1M", "--serial", serial, "--debugcon", debug],
                ["run", "--serial", serial, "--debugcon", "/nonexistent/dir/out"],
                ["run", "--serial", absent, "--debugcon", "/nonexistent/dir/out"],
            })
            {
                var (exit, _, error) = Invoke(args);
                Assert.AreEqual(2, exit, error);
                AssertOneLine(error);
                Assert.AreEqual("keep serial", File.ReadAllText(serial), string.Join(' ', args));
                Assert.AreEqual("keep debug", File.ReadAllText(debug), string.Join(' ', args));
                Assert.IsFalse(File.Exists(absent), "a file the failed run created is removed again");
            }
        }
        finally
        {
            File.Delete(serial);
            File.Delete(debug);
        }
    }

    [TestMethod]
    public void AnOutputThatIsAnInputOfTheRunIsRefused()
    {
        var raw = TempFile(BadInputTests.HighBytesGuest, ".bin");
        var link = TempPath(".lnk");
        File.CreateSymbolicLink(link, raw);
        try
        {
            foreach (var target in new[] { raw, link })
            {
                var (exit, _, error) = Invoke("run", raw, "--load-address", "0x7c00", "--serial", target);
                Assert.AreEqual(2, exit, error);
                AssertOneLine(error);
                StringAssert.Contains(error, "is an input of this run");
                CollectionAssert.AreEqual(BadInputTests.HighBytesGuest, File.ReadAllBytes(raw), "the image is intact");
            }
        }
        finally
        {
            File.Delete(link);
            File.Delete(raw);
        }
    }

    [TestMethod]
    public void SerialAndDebugConsoleOnOneFileShareOneWriter()
    {
        // The demo guest writes every character to COM1 and then to port E9h.
        var both = TempFile("stale content that must go"u8.ToArray(), ".out");
        try
        {
            var (exit, output, error) = Invoke("run", "--serial", both, "--debugcon", both);
            Assert.AreEqual(0, exit, error);
            Assert.AreEqual("", output);
            var expected = string.Concat(new DemoGuest().ExpectedOutput().Select(c => $"{c}{c}"));
            Assert.AreEqual(expected, File.ReadAllText(both), "every byte of both channels, in the order written");
        }
        finally
        {
            File.Delete(both);
        }
    }

    [TestMethod]
    [DataRow("/dev/full")]
    [DataRow("/proc/version")]
    public void AnOutputTheHostRefusesEndsTheRunWithOneLine(string target)
    {
        if (!File.Exists(target)) Assert.Inconclusive($"{target} does not exist here");
        var (exit, _, error) = Invoke("run", "--serial", target);
        Assert.AreEqual(2, exit, error);
        AssertOneLine(error);
        StringAssert.Contains(error, $"'{target}'");
    }
}
