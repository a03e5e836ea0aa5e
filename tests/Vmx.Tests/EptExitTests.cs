using Sim.Cpu;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>EPT and VPID in use: EPT violations (48) and misconfigurations (49) with their exit fields (SDM vol. 3, 28.2.1, 29.3.3), translation tags.</summary>
[TestClass]
public sealed class EptExitTests
{
    private const ulong G = VmxMachine.GuestCode;
    private const ulong Hole = 0x600000, ReadOnly = 0x601000, WriteOnly = 0x602000;

    private static VmxMachine EptGuest(Action<Iced.Intel.Assembler> code, bool vpid = false)
    {
        var m = new VmxMachine().Ready();
        m.Code(code);
        var ept = new EptTables(m.Memory, VmxMachine.EptPool);
        for (ulong a = 0; a < 32UL << 20; a += 2UL << 20)
            if (a != Hole) ept.Map(a, a, level: 2);
        ept.Map(ReadOnly, ReadOnly, permissions: 1 | 4);
        ept.Map(WriteOnly, WriteOnly, permissions: 2);
        m.Write(VmcsField.EptPointer, ept.Eptp());
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.ActivateSecondaryControls);
        m.Write(VmcsField.SecondaryProcessorBasedVmExecutionControls, SecondaryProcessorBasedControls.EnableEpt | (vpid ? SecondaryProcessorBasedControls.EnableVpid : 0));
        if (vpid) m.Write(VmcsField.VirtualProcessorIdentifier, 7);
        return m;
    }

    [TestMethod]
    public void ReadOfAnUnmappedGuestPhysicalPageIsAnEptViolation()
    {
        using var m = EptGuest(a => { a.mov(eax, (int)Hole + 0x10); a.mov(rbx, __qword_ptr[rax]); });
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.EptViolation, exit.BasicReason);
        Assert.AreEqual(Hole + 0x10, exit.GuestPhysicalAddress);
        Assert.AreEqual(Hole + 0x10, exit.GuestLinearAddress);
        const ulong bits = EptQualification.DataRead | EptQualification.LinearValid | EptQualification.FinalTranslation;
        Assert.AreEqual(bits, exit.ExitQualification & (0x3FUL | EptQualification.LinearValid | EptQualification.FinalTranslation | (1UL << 12)),
            "a read (bit 0) of a not-present page (bits 5:3 clear) at a final translation of a valid linear address (table 28-7)");
        Assert.AreEqual(G + 5, m.Read(VmcsField.GuestRip), "the faulting instruction is not completed");
        Assert.IsNull(m.Cpu.SecondLevel, "EPT ends with the exit");
        Assert.AreEqual(0, m.Cpu.TranslationTag);
    }

    [TestMethod]
    public void WriteToAReadOnlyPageReportsItsPermissions()
    {
        using var m = EptGuest(a => { a.mov(eax, (int)ReadOnly + 8); a.mov(__qword_ptr[rax], ecx); });
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.EptViolation, exit.BasicReason);
        Assert.AreEqual(ReadOnly + 8, exit.GuestPhysicalAddress);
        Assert.AreEqual(EptQualification.DataWrite | EptQualification.Readable | EptQualification.Executable,
            exit.ExitQualification & 0x3F, "a write to a readable, executable page");
    }

    [TestMethod]
    public void WriteOnlyEntryIsAMisconfiguration()
    {
        using var m = EptGuest(a => { a.mov(eax, (int)WriteOnly); a.mov(rbx, __qword_ptr[rax]); });
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.EptMisconfiguration, exit.BasicReason, "write without read is a misconfiguration (29.3.3.1)");
        Assert.AreEqual(WriteOnly, exit.GuestPhysicalAddress);
        Assert.AreEqual(0UL, exit.ExitQualification);
    }

    [TestMethod]
    public void EptViolationDuringDeliveryReportsIdtVectoring()
    {
        using var m = EptGuest(a => a.ud2());
        m.Write(VmcsField.GuestIdtrBase, Hole);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.EptViolation, exit.BasicReason);
        Assert.AreEqual(Hole + 6 * 16, exit.GuestPhysicalAddress, "reading the #UD gate");
        Assert.AreEqual(0x80000306u, exit.IdtVectoringInformation, "the #UD being delivered (28.2.4)");
    }

    [TestMethod]
    public void GuestRunsUnderEptWithVpidTag()
    {
        using var m = EptGuest(a => { a.mov(eax, 0x500000); a.mov(__dword_ptr[rax], 0x1234); a.hlt(); }, vpid: true);
        int tag = -1;
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        tag = m.Cpu.TranslationTag;
        Assert.AreSame(m.Unit.EptTranslator, m.Cpu.SecondLevel);
        var exit = m.RunToExit();
        Assert.AreEqual(VmExitReason.Hlt, exit.BasicReason);
        Assert.AreNotEqual(0, tag, "a guest with VPID 7 and an EPTP has its own translation tag");
        Assert.AreEqual(0x1234UL, m.Memory.Read(0x500000, 4));
        Assert.AreEqual(0, m.Cpu.TranslationTag);
    }
}
