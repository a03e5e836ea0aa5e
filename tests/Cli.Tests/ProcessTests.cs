using System.Diagnostics;
using static Sim.Cli.Tests.SimInvocation;

namespace Sim.Cli.Tests;

/// <summary>`sim` as a process: signals, and standard streams that are closed or full.</summary>
[TestClass]
public sealed class ProcessTests
{
    private static (int Exit, string Out, string Err) Finish(Process process)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("sim did not end");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    [TestMethod]
    [DataRow("TERM", 143)]
    [DataRow("INT", 130)]
    public void ASignalStopsTheRunWithItsSummary(string signal, int status)
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("POSIX signals");
        using var sim = StartShell("", "run", "--guest", "bench64", "--iterations", "4000000000", "--stats");
        // The guest's banner on stdout says the run has started, and with it the signal handlers.
        Assert.AreNotEqual(-1, sim.StandardOutput.Read(), "the guest printed its banner");
        using (var kill = Process.Start("kill", $"-{signal} {sim.Id}")) kill.WaitForExit();
        var (exit, _, text) = Finish(sim);
        Assert.AreEqual(status, exit, text);
        StringAssert.Contains(text, $"sim: stopped by SIG{signal} at CS:RIP=");
        StringAssert.Contains(text, $"Stopped (exit status {status})");
        StringAssert.Contains(text, "MIPS");
    }

    [TestMethod]
    public void AClosedStandardErrorDoesNotAbort()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("shell redirections");
        using var sim = StartShell("2>&-", "run", "--bogus");
        var (exit, _, _) = Finish(sim);
        Assert.AreEqual(2, exit);
    }

    [TestMethod]
    public void AFullStandardErrorDoesNotAbort()
    {
        if (!File.Exists("/dev/full")) Assert.Inconclusive("no /dev/full");
        using var sim = StartShell("2>/dev/full", "run", "--guest", "bench32", "--max-instructions", "1000", "--stats");
        var (exit, _, _) = Finish(sim);
        Assert.AreEqual(8, exit);
    }

    [TestMethod]
    public void AFullStandardOutputEndsTheRunWithOneLine()
    {
        if (!File.Exists("/dev/full")) Assert.Inconclusive("no /dev/full");
        using var sim = StartShell(">/dev/full", "run");
        var (exit, _, error) = Finish(sim);
        Assert.AreEqual(2, exit, error);
        AssertOneLine(error);
        StringAssert.Contains(error, "cannot write guest output to stdout");
    }
}
