using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Microkernels.Kernel;
using Sim.Svm;
using Sim.Vmx;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Microkernels.Tests.Kernel;

/// <summary>
/// A 32-bit guest with paging off runs under an EPT (unrestricted guest) or nested page tables
/// built from mappings: it reads and writes the host frames mapped at its guest-physical addresses,
/// and its first access outside them exits (EPT violation, SDM vol. 3, 28.2.3.2; #VMEXIT(NPF), APM
/// vol. 2, 15.25.6) with that address; after an unmap and an invalidation the page is gone.
/// </summary>
[TestClass]
public sealed class GuestUnderMappedSpaceTests
{
    private const ulong KernelWindow = 0x800000, KernelWindowSize = 0x100000;
    private const ulong Data = 0x200000, DataFrames = 0x600000, Unmapped = 0x400000, SecondProgram = 0x100;

    private static void Program(Sim.Cpu.Memory.PhysicalMemory memory, ulong address, Action<Assembler> build) =>
        memory.WriteBytes(address, IcedAssembly.Assemble(32, address, build));

    private static void WriteData(Sim.Cpu.Memory.PhysicalMemory memory)
    {
        memory.Write(DataFrames + 0x1234, 4, 0xAABBCCDD);
        memory.Write(DataFrames + 0x1FE000, 4, 0x55667788);
        memory.Write(DataFrames + 0x1FF000, 4, 0x11223344);
        memory.Write(Data + 0x1234, 4, 0xDEADBEEF);
    }

    private static void FirstAndSecondProgram(Sim.Cpu.Memory.PhysicalMemory memory, ulong code)
    {
        Program(memory, code, a =>
        {
            a.mov(eax, __dword_ptr[Data + 0x1234]);
            a.mov(ebx, __dword_ptr[Data + 0x1FF000]);
            a.mov(__dword_ptr[Data + 0x10], 0x55);
            a.mov(ecx, __dword_ptr[Unmapped]);
            a.hlt();
        });
        Program(memory, code + SecondProgram, a =>
        {
            a.mov(eax, __dword_ptr[Data + 0x1FE000]);
            a.mov(ebx, __dword_ptr[Data + 0x1FF000]);
            a.hlt();
        });
    }

    [TestMethod]
    public void TheHostStateIsTheOneTheProcessorsRunIn()
    {
        using var vmx = new VmxHostMachine();
        var h = VmxHostMachine.Host;
        Assert.AreEqual((vmx.Cpu.Cr0, vmx.Cpu.Cr3, vmx.Cpu.Cr4, vmx.Cpu.Efer), (h.Cr0, h.Cr3, h.Cr4, h.Efer));
        Assert.AreEqual((vmx.Cpu.Gdtr.Base, vmx.Cpu.Idtr.Base, vmx.Cpu.Tr.Base, vmx.Cpu.Rip, vmx.Cpu.Rsp), (h.GdtBase, h.IdtBase, h.TssBase, h.Rip, h.Rsp));
        using var svm = new SvmHostMachine();
        h = SvmHostMachine.Host;
        Assert.AreEqual((svm.Cpu.Cr0, svm.Cpu.Cr3, svm.Cpu.Cr4, svm.Cpu.Efer), (h.Cr0, h.Cr3, h.Cr4, h.Efer));
        Assert.AreEqual((svm.Cpu.Gdtr.Base, svm.Cpu.Idtr.Base, svm.Cpu.Tr.Base, svm.Cpu.Rip, svm.Cpu.Rsp), (h.GdtBase, h.IdtBase, h.TssBase, h.Rip, h.Rsp));
    }

    [TestMethod]
    public void AGuestUnderEptSeesExactlyTheMappedMemory()
    {
        using var m = new VmxHostMachine();
        WriteData(m.Memory);
        FirstAndSecondProgram(m.Memory, VmxHostMachine.GuestCode);
        Assert.AreEqual(VmxResult.Succeed, m.EnterVmxOperation());
        m.MakeProtectedModeGuest();
        var space = new EptSpace(new KernelMemory(m.Memory, KernelWindow, KernelWindowSize));
        space.Map(VmxHostMachine.GuestCode, VmxHostMachine.GuestCode, 0x1000, GuestPageRights.Read | GuestPageRights.Execute);
        space.Map(Data, DataFrames, 0x200000, GuestPageRights.Read | GuestPageRights.Write);
        m.WriteField(VmcsField.EptPointer, space.Root);

        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        Assert.AreEqual(StopReason.VmExit, m.Cpu.Run(m.Cpu.Cycles + 1_000_000));
        Assert.AreEqual(VmExitReason.EptViolation, m.Unit.LastExit.BasicReason);
        Assert.AreEqual(Unmapped, m.Unit.LastExit.GuestPhysicalAddress);
        Assert.AreEqual(0xAABBCCDDUL, m.Cpu.Rax & 0xFFFFFFFF, "the read went to the mapped frame, not to host-physical = guest-physical");
        Assert.AreEqual(0x11223344UL, m.Cpu.Rbx & 0xFFFFFFFF);
        Assert.AreEqual(0x55UL, m.Memory.Read(DataFrames + 0x10, 4), "the write too");
        Assert.AreEqual(0UL, m.Memory.Read(Data + 0x10, 4));

        space.Unmap(Data + 0x1FF000, 0x1000);
        // The kernel's duty after an unmap: the guest's cached translations of the space go.
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Invept(1, space.Root));
        m.WriteField(VmcsField.GuestRip, VmxHostMachine.GuestCode + SecondProgram);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmresume());
        Assert.AreEqual(StopReason.VmExit, m.Cpu.Run(m.Cpu.Cycles + 1_000_000));
        Assert.AreEqual(VmExitReason.EptViolation, m.Unit.LastExit.BasicReason);
        Assert.AreEqual(Data + 0x1FF000, m.Unit.LastExit.GuestPhysicalAddress, "the unmapped page of the split 2 MiB leaf");
        Assert.AreEqual(0x55667788UL, m.Cpu.Rax & 0xFFFFFFFF, "its neighbour still maps");
    }

    [TestMethod]
    public void AGuestUnderNestedPagingSeesExactlyTheMappedMemory()
    {
        using var m = new SvmHostMachine();
        // Nested NX is honoured only with the host's EFER.NXE (APM vol. 2, 15.25.5), as HostEnvironment sets it.
        Assert.IsTrue(m.Cpu.TryWriteMsr(Msr.Efer, m.Cpu.Efer | Efer.NXE));
        WriteData(m.Memory);
        FirstAndSecondProgram(m.Memory, SvmHostMachine.GuestCode);
        var space = new NptSpace(new KernelMemory(m.Memory, KernelWindow, KernelWindowSize));
        space.Map(SvmHostMachine.GuestCode, SvmHostMachine.GuestCode, 0x1000, GuestPageRights.Read | GuestPageRights.Execute);
        space.Map(Data, DataFrames, 0x200000, GuestPageRights.Read | GuestPageRights.Write);
        var v = m.Vmcb;
        v.Intercept(SvmIntercept.Hlt);
        v.Write(VmcbLayout.NpEnable, 8, 1);
        v.Write(VmcbLayout.NCr3, 8, space.Root);

        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmHostMachine.VmcbPa), m.Unit.LastConsistencyFailure.ToString());
        m.Cpu.Run(m.Cpu.Cycles + 1_000_000);
        Assert.AreEqual(SvmExitCode.Npf, v.ExitCode);
        Assert.AreEqual(Unmapped, v.ExitInfo2);
        Assert.AreEqual(0UL, v.ExitInfo1 & 1, "not present");
        Assert.AreEqual(0xAABBCCDDUL, v.Rax & 0xFFFFFFFF);
        Assert.AreEqual(0x11223344UL, m.Cpu.Rbx & 0xFFFFFFFF);
        Assert.AreEqual(0x55UL, m.Memory.Read(DataFrames + 0x10, 4));
        Assert.AreEqual(0UL, m.Memory.Read(Data + 0x10, 4));

        space.Unmap(Data + 0x1FF000, 0x1000);
        // The kernel's duty after an unmap: flush the guest's ASID (TLB_CONTROL 3) on the next VMRUN.
        v.Write(VmcbLayout.TlbControl, 1, 3);
        v.Write(VmcbLayout.Rip, 8, SvmHostMachine.GuestCode + SecondProgram);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmHostMachine.VmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 1_000_000);
        Assert.AreEqual(SvmExitCode.Npf, v.ExitCode);
        Assert.AreEqual(Data + 0x1FF000, v.ExitInfo2);
        Assert.AreEqual(0x55667788UL, v.Rax & 0xFFFFFFFF);
    }
}
