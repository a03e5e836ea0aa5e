using Iced.Intel;
using Sim.Cpu;
using Sim.Images;
using Sim.Images.Guests;
using Sim.Platform;

namespace Sim.Svm.Tests;

/// <summary>
/// The built-in <see cref="SvmHypervisorGuest"/> on the simulated PC with the machine's own SVM unit:
/// what it prints is the exit sequence the APM implies for its two guests.
/// </summary>
[TestClass]
public sealed class GuestHypervisorTests
{
    /// <summary>The address of each instruction of a guest, and the address after the last.</summary>
    private static ulong[] InstructionAddresses(int bitness, ulong address, byte[] code)
    {
        var decoder = Iced.Intel.Decoder.Create(bitness, new ByteArrayCodeReader(code));
        decoder.IP = address;
        var result = new List<ulong>();
        while (decoder.IP < address + (ulong)code.Length)
        {
            result.Add(decoder.IP);
            decoder.Decode(out _);
        }
        result.Add(decoder.IP);
        return [.. result];
    }

    private static (RunResult Result, string Serial, string Debug) Run(BootImage image, CpuVendor vendor)
    {
        var serial = new CapturedOutput();
        var debug = new CapturedOutput();
        using var machine = new Machine(new MachineConfig { Vendor = vendor, Console = serial, DebugConsole = debug, MaxInstructions = 10_000_000 });
        Assert.AreEqual(vendor == CpuVendor.Amd ? 1 : 0, machine.SvmUnits.Count, "Machine attaches the SVM unit on AMD only");
        machine.Load(image);
        var result = machine.Run();
        return (result, serial.ToString(), debug.ToString());
    }

    /// <summary>
    /// Guest 1 (real mode, no nested paging): CPUID exits and resumes at the next instruction (nRIP,
    /// 15.7.1); OUT 80h is intercepted through the IOPM with EXITINFO1 = port 80h &lt;&lt; 16 | SZ8 (bit 4) |
    /// A16 (bit 7) and EXITINFO2 = the next RIP (15.10.2); OUT to COM1 and E9h, clear in the IOPM, reach
    /// the ports themselves; HLT exits with RIP at the HLT (15.9). Guest 2 (64-bit, nested paging): CPUID,
    /// then its read walks its page directory at the left-out 4C_0000h: #VMEXIT(NPF) with EXITINFO1 =
    /// bit 33 (guest page-table access) | RW | US (a user write at the nested level, 15.25.5), P clear,
    /// EXITINFO2 = the PDE's guest-physical address; once mapped, the read itself reaches the left-out
    /// 48_0010h: bit 32 (final address) | US, RW clear; both with RIP at the read (15.25.6). The retried
    /// read sees the backing page's 5Ah, which OUT reports with A64 (bit 9).
    /// </summary>
    private static string Expected()
    {
        var real = InstructionAddresses(16, SvmHypervisorGuest.RealGuestCode, SvmHypervisorGuest.RealGuest());
        var longMode = InstructionAddresses(64, SvmHypervisorGuest.LongGuestCode, SvmHypervisorGuest.LongGuest());
        // Real guest: mov eax; cpuid; mov al, bl; out 80h; mov dx; then two bytes each to COM1 and E9h; hlt.
        return
            "SVM\n" +
            "NP\n" +
            "guest 1: real mode\n" +
            $"exit 72 cpuid 40000000 next {real[2]:x}\n" +
            $"exit 7b ioio 800090 value 53 next {real[4]:x}\n" +
            "R\n" +
            $"exit 78 hlt rip {real[11]:x}\n" +
            "guest 2: long mode, nested paging\n" +
            $"exit 72 cpuid 40000000 next {longMode[2]:x}\n" +
            $"exit 400 npf 200000006 4c0000 rip {longMode[3]:x}\n" +
            $"exit 400 npf 100000004 480010 rip {longMode[3]:x}\n" +
            $"exit 7b ioio 800210 value 5a next {longMode[5]:x}\n" +
            $"exit 78 hlt rip {longMode[5]:x}\n" +
            "done\n";
    }

    [TestMethod]
    public void ExpectedOutputIsTheExitSequenceTheApmPrescribes() => Assert.AreEqual(Expected(), new SvmHypervisorGuest().ExpectedOutput());

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void HypervisorRunsARealModeGuestAndANestedPagingGuest(bool floppy)
    {
        var guest = new SvmHypervisorGuest();
        var (result, serial, debug) = Run(floppy ? guest.ToFloppyBootImage() : guest.ToBootImage(), CpuVendor.Amd);
        Assert.AreEqual(Expected(), debug, result.ToString());
        Assert.AreEqual(Expected(), serial, "COM1 carries the same text as port 0xE9");
        Assert.AreEqual(RunOutcome.BochsShutdown, result.Outcome, result.ToString());
        Assert.AreEqual(0, result.ExitCode);
    }

    [TestMethod]
    public void OnAnIntelMachineTheHypervisorFindsNoSvmAndFails()
    {
        var (result, serial, debug) = Run(new SvmHypervisorGuest().ToBootImage(), CpuVendor.Intel);
        // CPUID Fn8000_0001 ECX[2] is clear without SVM (15.4).
        Assert.AreEqual(SvmHypervisorGuest.NoSvmOutput, debug);
        Assert.AreEqual(SvmHypervisorGuest.NoSvmOutput, serial);
        Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.ToString());
        Assert.AreEqual((SvmHypervisorGuest.FailureStatus << 1) | 1, result.ExitCode);
    }
}
