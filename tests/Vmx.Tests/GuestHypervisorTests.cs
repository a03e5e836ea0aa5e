using Sim.Platform;

namespace Sim.Vmx.Tests;

/// <summary>
/// The hypervisor of <see cref="GuestHypervisorProgram"/> on the simulated PC with the VMX unit:
/// everything it prints comes from VMREADs of real VM exits.
/// </summary>
[TestClass]
public sealed class GuestHypervisorTests
{
    [TestMethod]
    public void HypervisorRunsARealModeAndA64BitGuestAndServesTheirExitsInOrder()
    {
        var debugConsole = new StringWriter();
        using var machine = new Machine(new MachineConfig { Console = new StringWriter(), DebugConsole = debugConsole, MemoryBytes = 32 << 20, MaxInstructions = 2_000_000 });
        machine.Load(GuestHypervisorProgram.Image());
        var unit = new VmxUnit(machine.Processors[0], new VmcsRegistry());
        var result = machine.Run();
        var log = debugConsole.ToString();
        Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, $"{result}\n{log}");
        Assert.AreEqual(1, result.ExitCode, $"the hypervisor reported a failure\n{log}");
        // Each guest: CPUID exits (reason 10, SDM vol. 3, 26.1.2) with a 2-byte instruction; the store to the
        // page the EPT lacks is an EPT violation (48) reported before the store happens — a data write (bit 1)
        // to a final translation (bits 7, 8), with no EPT rights (bits 5:3 = 0); for the real-mode guest its
        // paging is off, so the linear address is user-mode and read/write (bits 9, 10); for the 64-bit
        // guest it is a supervisor read/write page (bit 10). The store is restarted, then OUT imm8 exits
        // (30) with port E9H in bits 31:16, immediate operand (bit 6), 1 byte, out (table 28-5), the byte
        // being the CPUID signature's, and HLT exits (12) with a 1-byte instruction. The 64-bit guest's EPT
        // enables A/D flags and lacks its page directory: its first fetch faults on the walk before CPUID can
        // exit — a paging-structure access (bit 8 clear) that counts as a write, so bits 0 and 1 (29.3.3.2);
        // at the end its code page is accessed, its data page and page directory accessed and dirty (29.3.5).
        const string expected =
            "vmxon\n" +
            "launch real\n" +
            "cpuid eax 40000000 len 2\n" +
            "ept gpa 9000 gla 9000 q 782\n" +
            "io q e90040 data 53 len 2\n" +
            "hlt len 1\n" +
            "launch long\n" +
            "ept gpa 32000 gla 20000 q 83\n" +
            "cpuid eax 40000000 len 2\n" +
            "ept gpa 1a000 gla 1a000 q 582\n" +
            "io q e90040 data 6d len 2\n" +
            "hlt len 1\n" +
            "ad 20000 100 1a000 300 32000 300\n" +
            "vmxoff\n";
        Assert.AreEqual(expected, log);
        Assert.AreEqual(9UL, unit.ExitCount);
        Assert.IsFalse(unit.InVmxOperation);
    }
}
