using Sim.Cpu;
using Sim.Images;
using Sim.Images.Guests;
using Sim.Platform;

namespace Sim.Vmx.Tests;

/// <summary>
/// The built-in <see cref="VmxHypervisorGuest"/> on the simulated PC with the machine's own VMX unit:
/// everything it prints comes from VMREADs of real VM exits.
/// </summary>
[TestClass]
public sealed class GuestHypervisorTests
{
    // Each guest: CPUID exits (reason 10 = 0AH, SDM vol. 3, 26.1.2, appendix C) with a 2-byte instruction; the
    // store to the page the EPT lacks is an EPT violation (48 = 30H) reported before the store happens, with
    // the guest RIP at the store (6-byte MOV EAX, imm32 with operand-size prefix in real mode, 5 bytes in
    // 64-bit mode, then the 2-byte CPUID; 27.3.3) — a data write (bit 1)
    // with a valid linear address (bit 7) that is the final translation (bit 8), with no EPT rights
    // (bits 5:3 = 0); bits 11:9 are left out by the hypervisor (defined only with advanced VM-exit
    // information, table 28-7). The store is restarted, then OUT imm8 exits (30 = 1EH) with port E9H in
    // bits 31:16, immediate operand (bit 6), 1 byte, out (table 28-5), the byte being the CPUID
    // signature's ('S' of "SimV", 'm' of "mxHv"), and HLT exits (12 = 0CH) with a 1-byte instruction. The
    // 64-bit guest's EPT enables A/D flags and lacks its page directory: its first fetch faults on the walk
    // before CPUID can exit, with RIP at its first instruction — a paging-structure access (bit 8 clear) that counts as a write, so bits 0
    // and 1 (29.3.3.2, table 28-7 note 1); at the end its code page is accessed (bit 8), its data page and
    // page directory accessed and dirty (bits 8, 9; 29.3.5).
    private const string Expected =
        "vmxon\n" +
        "launch real\n" +
        "exit a cpuid eax 40000000 len 2\n" +
        "exit 30 ept gpa 9000 gla 9000 q 182 rip 8008\n" +
        "exit 1e io q e90040 data 53 len 2\n" +
        "exit c hlt len 1\n" +
        "launch long\n" +
        "exit 30 ept gpa 132000 gla 120000 q 83 rip 120000\n" +
        "exit a cpuid eax 40000000 len 2\n" +
        "exit 30 ept gpa 11a000 gla 11a000 q 182 rip 120007\n" +
        "exit 1e io q e90040 data 6d len 2\n" +
        "exit c hlt len 1\n" +
        "ad 120000 100 11a000 300 132000 300\n" +
        "vmxoff\n";

    private static (RunResult Result, string Serial, string Debug, Machine Machine) Run(BootImage image, CpuVendor vendor = CpuVendor.Intel)
    {
        var serial = new CapturedOutput();
        var debug = new CapturedOutput();
        var machine = new Machine(new MachineConfig { Vendor = vendor, Console = serial, DebugConsole = debug, MaxInstructions = 10_000_000 });
        machine.Load(image);
        var result = machine.Run();
        return (result, serial.ToString(), debug.ToString(), machine);
    }

    [TestMethod]
    public void ExpectedOutputIsTheExitSequenceTheSdmPrescribes() => Assert.AreEqual(Expected, new VmxHypervisorGuest().ExpectedOutput());

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void HypervisorRunsARealModeAndA64BitGuestAndServesTheirExitsInOrder(bool floppy)
    {
        var guest = new VmxHypervisorGuest();
        var (result, serial, debug, machine) = Run(floppy ? guest.ToFloppyBootImage() : guest.ToBootImage());
        using (machine)
        {
            Assert.AreEqual(Expected, debug, result.ToString());
            Assert.AreEqual(Expected, serial, "COM1 carries the same text as port 0xE9");
            Assert.AreEqual(RunOutcome.BochsShutdown, result.Outcome, result.ToString());
            Assert.AreEqual(0, result.ExitCode);
            // Machine attaches one VMX unit per processor; the exits above are its: 2 CPUID, 3 EPT violations, 2 I/O, 2 HLT.
            Assert.AreEqual(1, machine.VmxUnits.Count);
            Assert.AreEqual(9UL, machine.VmxUnits[0].ExitCount);
            Assert.IsFalse(machine.VmxUnits[0].InVmxOperation, "VMXOFF left VMX operation");
        }
    }

    [TestMethod]
    public void OnAnAmdMachineTheHypervisorFindsNoVmxAndFails()
    {
        var (result, serial, debug, machine) = Run(new VmxHypervisorGuest().ToBootImage(), CpuVendor.Amd);
        using (machine)
        {
            // CPUID.1:ECX[5] (VMX) is clear without VT-x (SDM vol. 3, 24.6).
            Assert.AreEqual(VmxHypervisorGuest.NoVmxOutput, debug);
            Assert.AreEqual(VmxHypervisorGuest.NoVmxOutput, serial);
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.ToString());
            Assert.AreEqual((VmxHypervisorGuest.FailureStatus << 1) | 1, result.ExitCode);
            Assert.AreEqual(0, machine.VmxUnits.Count);
        }
    }
}
