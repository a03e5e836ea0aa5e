using Sim.Images;

namespace Sim.Platform.Tests.Firmware;

/// <summary>
/// <see cref="FwCfgGuest"/> on sim and on QEMU's PC machine with the same CPUs, RAM and vendor (an AMD
/// vCPU makes QEMU add its HyperTransport hole at FD_0000_0000h to etc/e820): the items both have must
/// read the same through the data port and through DMA.
/// </summary>
[TestClass]
public sealed class FwCfgGuestTests
{
    private static string RunOnSim(int cpus, ulong memory)
    {
        var output = new CapturedOutput();
        using var machine = new Machine(new MachineConfig { Cpus = cpus, MemoryBytes = memory, DebugConsole = output, MaxInstructions = 5_000_000 });
        machine.Load(ImageLoader.Load(FwCfgGuest.Kernel(), "fwcfg.elf", new ImageLoadOptions(MemorySize: memory)));
        var result = machine.Run();
        Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, $"{result.Message}\n{output}");
        return output.ToString();
    }

    private static string RunOnQemu(int cpus, ulong memory)
    {
        var qemu = Tool.Require("qemu-system-x86_64");
        var directory = Directory.CreateTempSubdirectory("sim-fwcfg-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(directory, "fwcfg.elf"), FwCfgGuest.Kernel());
            var (exit, log) = Tool.Run(qemu, directory, TimeSpan.FromMinutes(1),
                "-machine", "pc", "-cpu", "qemu64,vendor=GenuineIntel", "-smp", cpus.ToString(), "-m", $"{memory >> 20}M", "-nographic", "-no-reboot",
                "-serial", "none", "-monitor", "none", "-parallel", "none",
                "-kernel", "fwcfg.elf", "-debugcon", "file:debugcon.txt", "-device", "isa-debug-exit,iobase=0xf4");
            var output = File.Exists(Path.Combine(directory, "debugcon.txt")) ? File.ReadAllText(Path.Combine(directory, "debugcon.txt")) : "";
            Assert.AreEqual(1, exit, $"isa-debug-exit with 0; QEMU said: {log}\n{output}");
            return output;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Dictionary<string, string> Values(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.Contains('=') && !l.Contains("file "))
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);

    private static List<string> Lines(string output, string prefix) =>
        [.. output.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[prefix.Length..])];

    private static List<string> FileNames(string output, string prefix) => [.. Lines(output, prefix).Select(l => l[..l.IndexOf(' ')])];

    [TestMethod]
    public void SimReadsWhatTheGuestExpects()
    {
        var output = RunOnSim(2, 128UL << 20);
        var v = Values(output);
        Assert.AreEqual("QEMU", v["sig"]);
        Assert.AreEqual("00000003", v["id"]);
        Assert.AreEqual("00000002", v["cpus"]);
        Assert.AreEqual("0000000008000000", v["ram"]);
        Assert.AreEqual("QEMU CFG", v["dmasig"]);
        Assert.AreEqual("00000002", v["dma cpus"]);
        Assert.AreEqual("MU", v["dma skip"]);
        Assert.AreEqual("00000000", v["dma status"]);
        CollectionAssert.AreEqual(Lines(output, "file "), Lines(output, "dma file "), "the directory by DMA is the directory by the data port");
        CollectionAssert.AreEqual(new[] { "0000000000000000 0000000008000000 00000001" }, Lines(output, "e820 "));
        Assert.IsTrue(output.EndsWith("end\n", StringComparison.Ordinal), output);
    }

    [TestMethod]
    [TestCategory("Reference")]
    [DataRow(1, 64)]
    [DataRow(4, 128)]
    public void SimAndQemuAgree(int cpus, int megabytes)
    {
        var memory = (ulong)megabytes << 20;
        var qemu = RunOnQemu(cpus, memory);
        var sim = RunOnSim(cpus, memory);
        var q = Values(qemu);
        var s = Values(sim);
        foreach (var key in new[] { "sig", "id", "cpus", "max", "ram", "past", "dmasig", "dma cpus", "dma ram", "dma skip", "dma status" })
            Assert.AreEqual(q[key], s[key], $"{key}\nQEMU:\n{qemu}\nsim:\n{sim}");
        CollectionAssert.AreEqual(Lines(qemu, "file "), Lines(qemu, "dma file "), "QEMU's own DMA and data port agree");
        CollectionAssert.IsSubsetOf(FileNames(sim, "file "), FileNames(qemu, "file "), $"QEMU:\n{qemu}");
        CollectionAssert.AreEqual(Lines(qemu, "e820 "), Lines(sim, "e820 "), $"etc/e820\nQEMU:\n{qemu}\nsim:\n{sim}");
        Assert.IsTrue(qemu.EndsWith("end\n", StringComparison.Ordinal), qemu);
    }
}
