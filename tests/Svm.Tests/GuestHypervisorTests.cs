using Iced.Intel;
using Sim.Platform;

namespace Sim.Svm.Tests;

/// <summary>
/// <see cref="GuestHypervisor"/> on the simulated PC with an SVM unit on CPU 0: what it prints on
/// port 0xE9 is the exit sequence the APM implies for its two guests.
/// </summary>
[TestClass]
public sealed class GuestHypervisorTests
{
    /// <summary>The address of each instruction of a guest, and the address after the last.</summary>
    private static ulong[] InstructionAddresses(int bitness, ulong address, byte[] code)
    {
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(code));
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

    private static (RunResult Result, string Output) Run(bool withSvm)
    {
        var debugConsole = new StringWriter();
        using var machine = new Machine(new MachineConfig { Console = TextWriter.Null, DebugConsole = debugConsole, MaxInstructions = 2_000_000 });
        if (withSvm) _ = new SvmUnit(machine.Processors[0]);
        machine.Load(GuestHypervisor.Image());
        var result = machine.Run();
        return (result, debugConsole.ToString());
    }

    [TestMethod]
    public void HypervisorRunsARealModeGuestAndANestedPagingGuest()
    {
        var real = InstructionAddresses(16, GuestHypervisor.RealGuestCode, GuestHypervisor.RealGuest());
        var longMode = InstructionAddresses(64, GuestHypervisor.LongGuestCode, GuestHypervisor.LongGuest());

        var (result, output) = Run(withSvm: true);

        // Guest 1 (real mode, no nested paging): CPUID exits with nRIP past it (15.7.1); OUT 80h is
        // intercepted through the IOPM with EXITINFO1 = port 80h << 16 | SZ8 (bit 4) | A16 (bit 7)
        // and EXITINFO2 = the next RIP (15.10.2); OUT E9h, clear in the IOPM, reaches the port
        // itself; HLT exits with RIP at the HLT (15.9). Guest 2 (64-bit, nested paging): CPUID, then
        // its read walks its page directory at the left-out 4C_0000h: #VMEXIT(NPF) with EXITINFO1 =
        // bit 33 (guest page-table access) | RW | US (a user write at the nested level, 15.25.5), P
        // clear, EXITINFO2 = the PDE's guest-physical address; once mapped, the read itself reaches
        // the left-out 48_0010h: bit 32 (final address) | US, RW clear; both with RIP at the read
        // (15.25.6). The retried read sees the backing page's 5Ah, which OUT reports with A64 (bit 9).
        var expected =
            "SVM\n" +
            "NP\n" +
            "guest 1: real mode\n" +
            $"exit 72 cpuid 40000000 nrip {real[2]:x}\n" +
            $"exit 7b ioio 800090 value 53 next {real[4]:x}\n" +
            "R\n" +
            $"exit 78 hlt rip {real[8]:x}\n" +
            "guest 2: long mode, nested paging\n" +
            $"exit 72 cpuid 40000000 nrip {longMode[2]:x}\n" +
            $"exit 400 npf 200000006 4c0000 rip {longMode[3]:x}\n" +
            $"exit 400 npf 100000004 480010 rip {longMode[3]:x}\n" +
            $"exit 7b ioio 800210 value 5a next {longMode[5]:x}\n" +
            $"exit 78 hlt rip {longMode[5]:x}\n" +
            "done\n";
        Assert.AreEqual(expected, output, result.Message);
        Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
        Assert.AreEqual(1, result.ExitCode, "the hypervisor wrote 0 to port 0xF4");
    }

    [TestMethod]
    public void WithoutAnSvmUnitTheHypervisorFindsNoSvm()
    {
        var (result, output) = Run(withSvm: false);
        Assert.AreEqual("no SVM or NP\n", output, "CPUID Fn8000_0001 ECX[2] is clear without SVM (15.4)");
        Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
        Assert.AreEqual(3, result.ExitCode);
    }
}
