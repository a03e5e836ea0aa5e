using System.Diagnostics;
using Sim.Platform;

namespace Sim.Differential.Tests;

/// <summary>The same ROM on sim's Machine.LoadBios (what `sim run --bios` does) and on QEMU's <c>-bios</c>: the same output on port E9h and COM1, the same exit status.</summary>
[TestClass]
public sealed class BiosRomQemuTests
{
    [TestMethod]
    public void TheResetVectorRomPrintsTheSameOnSimAndOnQemu()
    {
        var rom = ResetVectorRom.Build();
        var (simExit, simDebug, simSerial) = RunOnSim(rom);
        var (qemuExit, qemuDebug, qemuSerial) = RunOnQemu(rom);
        Assert.AreEqual(ResetVectorRom.Output, qemuDebug, "QEMU's port E9h");
        Assert.AreEqual(qemuDebug, simDebug, "port E9h");
        Assert.AreEqual(qemuSerial, simSerial, "COM1");
        Assert.AreEqual(qemuExit, simExit, "exit status");
    }

    private static (int Exit, string Debug, string Serial) RunOnSim(byte[] rom)
    {
        var debug = new CapturedOutput();
        var serial = new CapturedOutput();
        using var machine = new Machine(new MachineConfig { Console = serial, DebugConsole = debug, MaxInstructions = 1_000_000 });
        machine.LoadBios(rom);
        var result = machine.Run();
        return (result.ExitCode, debug.ToString(), serial.ToString());
    }

    private static (int Exit, string Debug, string Serial) RunOnQemu(byte[] rom)
    {
        QemuRunner.EnsureInstalled();
        var stem = Path.Combine(Path.GetTempPath(), $"sim-bios-{Guid.NewGuid():N}");
        var (romFile, debugFile, serialFile) = (stem + ".rom", stem + ".debug", stem + ".serial");
        File.WriteAllBytes(romFile, rom);
        try
        {
            var psi = new ProcessStartInfo(QemuRunner.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var arg in new[]
            {
                "-bios", romFile, "-display", "none", "-monitor", "none", "-no-reboot", "-m", "64",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-debugcon", $"file:{debugFile}", "-serial", $"file:{serialFile}",
            })
                psi.ArgumentList.Add(arg);
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start QEMU");
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                Assert.Fail($"QEMU timed out; stderr: {stderr.Result}");
            }
            return (process.ExitCode, File.ReadAllText(debugFile, System.Text.Encoding.Latin1), File.ReadAllText(serialFile, System.Text.Encoding.Latin1));
        }
        finally
        {
            foreach (var file in new[] { romFile, debugFile, serialFile }) File.Delete(file);
        }
    }
}
