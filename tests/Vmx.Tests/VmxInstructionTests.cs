using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>
/// The VMX instructions' #UD/#GP conditions and VMsucceed/VMfailInvalid/VMfailValid outcomes
/// (SDM vol. 3, chapter 31, and table 31-1), through the C# interface and through guest code.
/// </summary>
[TestClass]
public sealed class VmxInstructionTests
{
    private static readonly VmxResult Ud = VmxResult.Fault(ExceptionVector.UD);
    private static readonly VmxResult Gp = VmxResult.Fault(ExceptionVector.GP);

    [TestMethod]
    public void UnitAnnouncesVmxAndAllowsCr4Vmxe()
    {
        using var m = new VmxMachine();
        m.Cpu.Cpuid(1, 0, out _, out _, out var ecx, out _);
        Assert.AreEqual(1u << 5, ecx & (1u << 5), "CPUID.01H:ECX.VMX (SDM vol. 3, 24.6)");
        Assert.IsTrue(m.Cpu.VmxSupported);
    }

    [TestMethod]
    public void CapabilityMsrsAreCoherent()
    {
        using var m = new VmxMachine();
        Assert.IsTrue(m.Cpu.TryReadMsr(VmxCapability.Ia32VmxBasic, out var basic));
        Assert.AreEqual((ulong)VmxCapability.VmcsRevisionId, basic & 0x7FFFFFFF);
        Assert.AreEqual(4096UL, (basic >> 32) & 0x1FFF, "VMCS region size");
        Assert.AreEqual(6UL, (basic >> 50) & 0xF, "write-back");
        Assert.AreNotEqual(0UL, basic & (1UL << 55), "TRUE_ controls (A.1)");
        foreach (var (plain, truer) in new[] { (0x481u, 0x48Du), (0x482u, 0x48Eu), (0x483u, 0x48Fu), (0x484u, 0x490u) })
        {
            Assert.IsTrue(m.Cpu.TryReadMsr(plain, out var p));
            Assert.IsTrue(m.Cpu.TryReadMsr(truer, out var t));
            Assert.AreEqual(0UL, (p & 0xFFFFFFFF) & ~(p >> 32), "every must-be-1 bit is allowed to be 1");
            Assert.AreEqual(0UL, (t & 0xFFFFFFFF) & ~(p & 0xFFFFFFFF), "the TRUE MSR only relaxes default1 bits (A.3.1)");
            Assert.AreEqual(p >> 32, t >> 32);
        }
        Assert.IsTrue(m.Cpu.TryReadMsr(0x48B, out var proc2));
        Assert.AreNotEqual(0UL, (proc2 >> 32) & SecondaryProcessorBasedControls.UnrestrictedGuest);
        Assert.AreNotEqual(0UL, (proc2 >> 32) & SecondaryProcessorBasedControls.EnableEpt);
        Assert.AreNotEqual(0UL, (proc2 >> 32) & SecondaryProcessorBasedControls.EnableVpid);
        Assert.IsTrue(m.Cpu.TryReadMsr(0x48C, out var eptCap));
        Assert.AreEqual(Ept.EptVpidCapability.Value, eptCap);
        Assert.IsTrue(m.Cpu.TryReadMsr(0x485, out var misc));
        Assert.AreEqual(4UL, (misc >> 16) & 0x1FF, "CR3-target count");
        Assert.IsTrue(m.Cpu.TryReadMsr(0x48A, out var vmcsEnum));
        Assert.AreEqual(0x17UL, (vmcsEnum >> 1) & 0x1FF, "highest index: VMX-preemption timer value, 482EH");
        Assert.IsTrue(m.Cpu.TryReadMsr(0x486, out var cr0Fixed0));
        Assert.AreEqual(Cr0.PE | Cr0.NE | Cr0.PG, cr0Fixed0);
        Assert.IsFalse(m.Cpu.TryWriteMsr(VmxCapability.Ia32VmxBasic, 0), "capability MSRs are read-only");
        Assert.IsFalse(m.Cpu.TryReadMsr(0x491, out _), "no VM functions: IA32_VMX_VMFUNC is absent");
    }

    [TestMethod]
    public void VmxonConditions()
    {
        using var m = new VmxMachine();
        m.Cpu.FeatureControl = 1;
        Assert.AreEqual(Gp, m.Unit.Vmxon(VmxMachine.VmxonRegion), "IA32_FEATURE_CONTROL bit 2 clear: #GP(0)");
        m.Cpu.FeatureControl = 4;
        Assert.AreEqual(Gp, m.Unit.Vmxon(VmxMachine.VmxonRegion), "lock bit clear: #GP(0)");
        m.Cpu.FeatureControl = 5;
        m.Cpu.LoadControlState(VmxMachine.HostCr0, VmxMachine.PageTables, Cr4.PAE, Efer.LME);
        Assert.AreEqual(Ud, m.Unit.Vmxon(VmxMachine.VmxonRegion), "CR4.VMXE clear: #UD");
        m.Cpu.LoadControlState(VmxMachine.HostCr0 & ~Cr0.NE, VmxMachine.PageTables, VmxMachine.HostCr4, Efer.LME);
        Assert.AreEqual(Gp, m.Unit.Vmxon(VmxMachine.VmxonRegion), "CR0.NE outside IA32_VMX_CR0_FIXED0: #GP(0)");
        m.Cpu.LoadControlState(VmxMachine.HostCr0, VmxMachine.PageTables, VmxMachine.HostCr4, Efer.LME);
        Assert.AreEqual(VmxResult.FailInvalid, m.Unit.Vmxon(VmxMachine.VmxonRegion + 0x10), "not 4-KiB aligned");
        Assert.AreEqual(VmxResult.FailInvalid, m.Unit.Vmxon(1UL << 40), "beyond the physical-address width");
        m.Memory.Write(VmxMachine.VmxonRegion, 4, 2);
        Assert.AreEqual(VmxResult.FailInvalid, m.Unit.Vmxon(VmxMachine.VmxonRegion), "wrong revision identifier");
        m.Memory.Write(VmxMachine.VmxonRegion, 4, VmxCapability.VmcsRevisionId);
        Assert.AreEqual(Ud, m.Unit.Vmptrld(VmxMachine.VmcsRegion), "outside VMX operation the other instructions #UD");
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmxon(VmxMachine.VmxonRegion));
        Assert.IsTrue(m.Unit.InVmxOperation);
        Assert.AreEqual(VmxResult.FailInvalid, m.Unit.Vmxon(VmxMachine.VmxonRegion), "in root operation without a current VMCS: VMfailInvalid");
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmptrld(VmxMachine.VmcsRegion));
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmxonInVmxRootOperation), m.Unit.Vmxon(VmxMachine.VmxonRegion));
        Assert.AreEqual(15UL, m.Read(VmcsField.VmInstructionError));
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmxoff());
        Assert.IsFalse(m.Unit.InVmxOperation);
    }

    [TestMethod]
    public void CompatibilityModeAndCplRaiseUdAndGp()
    {
        using var m = new VmxMachine().Ready();
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = VmxMachine.Code32Selector, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        Assert.AreEqual(Ud, m.Unit.Vmptrld(VmxMachine.VmcsRegion), "IA32_EFER.LMA = 1 and CS.L = 0: #UD");
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x1B, Limit = 0xFFFFFFFF, Attributes = 0xA0FB });
        Assert.AreEqual(Gp, m.Unit.Vmptrld(VmxMachine.VmcsRegion), "CPL 3: #GP(0)");
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = VmxMachine.CodeSelector, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        m.Cpu.LoadControlState(Cr0.NE | Cr0.ET, 0, VmxMachine.HostCr4, 0);
        Assert.AreEqual(Ud, m.Unit.Vmread(VmcsField.GuestRip, out _), "real-address mode: #UD");
    }

    [TestMethod]
    public void VmclearAndVmptrldErrors()
    {
        using var m = new VmxMachine().Ready();
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmclearWithInvalidPhysicalAddress), m.Unit.Vmclear(VmxMachine.SecondVmcs + 1));
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmclearWithVmxonPointer), m.Unit.Vmclear(VmxMachine.VmxonRegion));
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmptrldWithInvalidPhysicalAddress), m.Unit.Vmptrld(1UL << 41));
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmptrldWithVmxonPointer), m.Unit.Vmptrld(VmxMachine.VmxonRegion));
        m.Memory.Write(VmxMachine.SecondVmcs, 4, VmxCapability.VmcsRevisionId | 0x80000000);
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmptrldWithIncorrectRevisionIdentifier), m.Unit.Vmptrld(VmxMachine.SecondVmcs), "shadow-VMCS indicator without VMCS shadowing");
        Assert.AreEqual(11UL, m.Read(VmcsField.VmInstructionError));
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmptrst(out var current));
        Assert.AreEqual(VmxMachine.VmcsRegion, current);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmclear(VmxMachine.VmcsRegion));
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmptrst(out current));
        Assert.AreEqual(ulong.MaxValue, current, "VMCLEAR of the current VMCS invalidates the current-VMCS pointer");
        Assert.AreEqual(VmxResult.FailInvalid, m.Unit.Vmread(VmcsField.GuestRip, out _));
        Assert.AreEqual(VmxResult.FailInvalid, m.Unit.Vmlaunch());
    }

    [TestMethod]
    public void VmreadVmwriteRules()
    {
        using var m = new VmxMachine().Ready();
        var u = m.Unit;
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.UnsupportedVmcsComponent), u.Vmwrite(0x2032, 1), "TSC multiplier: no TSC scaling");
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.UnsupportedVmcsComponent), u.Vmread(0x4C01, out _), "high access of a 32-bit field");
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.UnsupportedVmcsComponent), u.Vmread(0x1_0000_0000UL | (uint)VmcsField.GuestRip, out _), "bits 63:32 of the encoding set");
        Assert.AreEqual(12UL, m.Read(VmcsField.VmInstructionError));
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmwriteToReadOnlyVmcsComponent), u.Vmwrite(VmcsField.ExitReason, 1));
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmwriteToReadOnlyVmcsComponent), u.Vmwrite(VmcsField.GuestPhysicalAddress, 1));
        Assert.AreEqual(13UL, m.Read(VmcsField.VmInstructionError));

        m.Write(VmcsField.GuestEsSelector, 0xABCD_1234);
        Assert.AreEqual(0x1234UL, m.Read(VmcsField.GuestEsSelector), "a 16-bit field ignores the high bits of the source");
        m.Write(VmcsField.ExceptionBitmap, 0xFFFF_FFFF_8000_0001);
        Assert.AreEqual(0x8000_0001UL, m.Read(VmcsField.ExceptionBitmap));
        m.Write(VmcsField.TscOffset, 0x1111_2222_3333_4444);
        Assert.AreEqual(VmxResult.Succeed, u.Vmread((uint)VmcsField.TscOffset | 1, out var high));
        Assert.AreEqual(0x1111_2222UL, high, "the high-access encoding reads bits 63:32");
        Assert.AreEqual(VmxResult.Succeed, u.Vmwrite((uint)VmcsField.TscOffset | 1, 0xAAAA_BBBB_CCCC_DDDD));
        Assert.AreEqual(0xCCCC_DDDD_3333_4444UL, m.Read(VmcsField.TscOffset), "the high-access write changes bits 63:32 only");

        // In 32-bit code the operand size is 32: a longer field gets its high bits cleared.
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = VmxMachine.Code32Selector, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        m.Cpu.LoadControlState(VmxMachine.HostCr0 & ~Cr0.PG, 0, VmxMachine.HostCr4, 0);
        Assert.AreEqual(VmxResult.Succeed, u.Vmwrite(VmcsField.TscOffset, 0x5555_6666));
        Assert.AreEqual(VmxResult.Succeed, u.Vmread(VmcsField.TscOffset, out var low));
        Assert.AreEqual(0x5555_6666UL, low);
        Assert.AreEqual(VmxResult.Succeed, u.Vmread((uint)VmcsField.TscOffset | 1, out high));
        Assert.AreEqual(0UL, high, "VMWRITE with a 32-bit operand clears bits 63:32 of a 64-bit field");
    }

    [TestMethod]
    public void LaunchStateRules()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => a.hlt());
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmresumeWithNonLaunchedVmcs), m.Unit.Vmresume());
        Assert.AreEqual(VmExitReason.Hlt, m.LaunchAndRun().BasicReason);
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmlaunchWithNonClearVmcs), m.Unit.Vmlaunch());
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmresume());
        m.RunToExit();
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmcallInVmxRootOperation), m.Unit.Vmcall());
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmxoff());
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmxon(VmxMachine.VmxonRegion));
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmptrld(VmxMachine.VmcsRegion));
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmresumeAfterVmxoff), m.Unit.Vmresume(), "VMXOFF and VMXON between VMLAUNCH and VMRESUME");
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmclear(VmxMachine.VmcsRegion));
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmptrld(VmxMachine.VmcsRegion));
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch(), "after VMCLEAR the VMCS launches again");
    }

    [TestMethod]
    public void VmentryBlockedByMovSsFailsWith26()
    {
        using var m = new VmxMachine().Ready();
        m.Cpu.SetInterruptShadow(false, true);
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmEntryWithEventsBlockedByMovSs), m.Unit.Vmlaunch());
    }

    /// <summary>Runs hypervisor code at HOST_CODE that ends in HLT; returns the RFLAGS it pushed right after its VMLAUNCH.</summary>
    private static ulong FlagsAfterLaunch(VmxMachine m, int bitness)
    {
        m.Cpu.HostOwned = false;
        m.Cpu.Rsp = 0x90000;
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 100_000));
        return m.Memory.Read(0x90000 - (ulong)(bitness / 8), bitness / 8);
    }

    [TestMethod]
    public void VmlaunchRightAfterMovSsFailsWith26()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.mov(eax, ss); a.mov(ss, eax); a.vmlaunch(); a.pushfq(); a.hlt(); }, VmxMachine.HostCode);
        var flags = FlagsAfterLaunch(m, 64);
        // VMLAUNCH "Operation": events blocked by MOV SS give VMfailValid(26), table 31-1.
        Assert.AreEqual(Rflags.ZF, flags & (Rflags.CF | Rflags.ZF));
        Assert.AreEqual((ulong)VmxInstructionError.VmEntryWithEventsBlockedByMovSs, m.Read(VmcsField.VmInstructionError));
        Assert.IsFalse(m.Unit.InNonRootOperation);
    }

    [TestMethod]
    public void VmresumeRightAfterPopSsFailsWith26()
    {
        using var m = new VmxMachine().Ready();
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        m.Code(a => a.hlt());
        m.RunToExit();
        // A 32-bit hypervisor (POP SS exists outside 64-bit mode) with 4-MiB pages.
        const ulong pd = 0x300000;
        for (ulong i = 0; i < 1024; i++) m.Memory.Write(pd + i * 4, 4, (i << 22) | 0x83);
        m.Cpu.LoadControlState(VmxMachine.HostCr0, pd, Cr4.PSE | Cr4.VMXE, 0);
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = VmxMachine.Code32Selector, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        m.Cpu.Rip = VmxMachine.HostCode;
        m.Code(a => { a.push(ss); a.pop(ss); a.vmresume(); a.pushfd(); a.hlt(); }, VmxMachine.HostCode, 32);
        var flags = FlagsAfterLaunch(m, 32);
        Assert.AreEqual(Rflags.ZF, flags & (Rflags.CF | Rflags.ZF), "VMRESUME after POP SS: VMfailValid (table 31-1)");
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = VmxMachine.Code32Selector, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmread(VmcsField.VmInstructionError, out var error));
        Assert.AreEqual((ulong)VmxInstructionError.VmEntryWithEventsBlockedByMovSs, error);
    }

    [TestMethod]
    public void VmlaunchRightAfterStiIsNotBlocked()
    {
        using var m = new VmxMachine().Ready();
        // Blocking by STI is not blocking by MOV SS: the entry goes ahead (error 26 names MOV SS only).
        m.Cpu.SetInterruptShadow(false, true);
        m.Cpu.SetInterruptShadow(false, false);
        m.Code(a => a.hlt());
        m.Code(a => { a.cli(); a.sti(); a.vmlaunch(); a.hlt(); }, VmxMachine.HostCode);
        var exits = m.Unit.ExitCount;
        FlagsAfterLaunch(m, 64);
        Assert.AreEqual(exits + 1, m.Unit.ExitCount, "the guest ran to its HLT exit");
    }

    [TestMethod]
    public void InveptAndInvvpidDescriptorChecks()
    {
        using var m = new VmxMachine().Ready();
        var ept = new EptTables(m.Memory, VmxMachine.EptPool);
        var fail = VmxResult.FailValid(VmxInstructionError.InvalidOperandToInveptInvvpid);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Invept(1, ept.Eptp()));
        Assert.AreEqual(fail, m.Unit.Invept(1, ept.Eptp() | (1UL << 7)), "single-context with an invalid EPTP");
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Invept(2, 0));
        Assert.AreEqual(fail, m.Unit.Invept(0, 0), "type 0 is not an INVEPT type");
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Invvpid(0, 5, 0x1000));
        Assert.AreEqual(fail, m.Unit.Invvpid(0, 5, 0x0000_8000_0000_0000), "individual address not canonical");
        Assert.AreEqual(fail, m.Unit.Invvpid(1, 0, 0), "single-context with VPID 0");
        Assert.AreEqual(fail, m.Unit.Invvpid(2, 1UL << 16, 0), "descriptor bits 63:16 reserved");
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Invvpid(2, 0, 0));
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Invvpid(3, 7, 0));
        Assert.AreEqual(fail, m.Unit.Invvpid(4, 7, 0));
        Assert.AreEqual(28UL, m.Read(VmcsField.VmInstructionError));
    }

    [TestMethod]
    public void VmclearWritesBackAndCrossCpuRule()
    {
        using var m = new VmxMachine(cpus: 2);
        var u0 = m.Units[0];
        var u1 = m.Units[1];
        Assert.AreEqual(VmxResult.Succeed, u0.Vmxon(VmxMachine.VmxonRegion));
        Assert.AreEqual(VmxResult.Succeed, u1.Vmxon(VmxMachine.VmxonRegion + 0x10000));
        Assert.AreEqual(VmxResult.Succeed, u0.Vmclear(VmxMachine.VmcsRegion));
        Assert.AreEqual(VmxResult.Succeed, u0.Vmptrld(VmxMachine.VmcsRegion));
        Assert.AreEqual(VmxResult.Succeed, u0.Vmwrite(VmcsField.GuestRip, 0xFEED));
        Assert.AreEqual(VmxResult.Succeed, u1.Vmptrld(VmxMachine.SecondVmcs));
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmptrldWithInvalidPhysicalAddress), u1.Vmptrld(VmxMachine.VmcsRegion),
            "a VMCS active on CPU 0 is not usable on CPU 1 until cleared (SDM vol. 3, 25.1)");
        Assert.AreEqual(0, m.Registry.OwnerOf(VmxMachine.VmcsRegion));
        Assert.AreEqual(VmxResult.Succeed, u0.Vmclear(VmxMachine.VmcsRegion));
        Assert.AreEqual(-1, m.Registry.OwnerOf(VmxMachine.VmcsRegion));
        Assert.AreEqual(0UL, m.Memory.Read(VmxMachine.VmcsRegion + Vmcs.LaunchStateOffset, 4), "VMCLEAR writes the launch state clear");
        Assert.AreEqual(VmxResult.Succeed, u1.Vmptrld(VmxMachine.VmcsRegion));
        Assert.AreEqual(VmxResult.Succeed, u1.Vmread(VmcsField.GuestRip, out var rip));
        Assert.AreEqual(0xFEEDUL, rip, "the data VMCLEAR wrote back is what VMPTRLD on the other processor reads");
    }

    [TestMethod]
    public void GuestCodeExecutesTheInstructionsWithTheirFlags()
    {
        using var m = new VmxMachine();
        m.Memory.Write(0x60000, 8, VmxMachine.VmxonRegion);
        m.Memory.Write(0x60008, 8, VmxMachine.VmcsRegion);
        m.Code(a =>
        {
            a.mov(rbx, 0x60000);
            a.vmxon(__qword_ptr[rbx]);
            a.pushfq();
            a.vmclear(__qword_ptr[rbx + 8]);
            a.vmptrld(__qword_ptr[rbx + 8]);
            a.mov(rax, (ulong)VmcsField.GuestRip);
            a.mov(rcx, 0x7777);
            a.vmwrite(rax, rcx);
            a.vmread(rdx, rax);
            a.vmread(__qword_ptr[rbx + 16], rax);
            a.vmptrst(__qword_ptr[rbx + 24]);
            a.mov(rax, (ulong)VmcsField.ExitReason);
            a.vmwrite(rax, rcx);
            a.pushfq();
            a.mov(rax, 0x1234);
            a.vmread(rsi, rax);
            a.pushfq();
            a.hlt();
        }, VmxMachine.HostCode);
        m.Cpu.Rsp = 0x90000;
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 100_000));
        Assert.IsTrue(m.Unit.InVmxOperation);
        Assert.AreEqual(0x7777UL, m.Cpu.Rdx);
        Assert.AreEqual(0x7777UL, m.Memory.Read(0x60010, 8));
        Assert.AreEqual(VmxMachine.VmcsRegion, m.Memory.Read(0x60018, 8));
        var afterVmxon = m.Memory.Read(0x90000 - 8, 8);
        var afterReadOnly = m.Memory.Read(0x90000 - 16, 8);
        var afterUnsupported = m.Memory.Read(0x90000 - 24, 8);
        Assert.AreEqual(0UL, afterVmxon & (Rflags.CF | Rflags.ZF), "VMsucceed clears CF and ZF");
        Assert.AreEqual(Rflags.ZF, afterReadOnly & (Rflags.CF | Rflags.ZF), "VMfailValid sets ZF");
        Assert.AreEqual(Rflags.ZF, afterUnsupported & (Rflags.CF | Rflags.ZF));
        Assert.AreEqual(12UL, m.Read(VmcsField.VmInstructionError));
    }

    [TestMethod]
    public void GuestCodeVmfailInvalidSetsCf()
    {
        using var m = new VmxMachine();
        m.Memory.Write(0x60000, 8, VmxMachine.VmxonRegion + 8);
        m.Code(a => { a.mov(rbx, 0x60000); a.vmxon(__qword_ptr[rbx]); a.pushfq(); a.hlt(); }, VmxMachine.HostCode);
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 100_000));
        Assert.AreEqual(Rflags.CF, m.Memory.Read(0x90000 - 8, 8) & (Rflags.CF | Rflags.ZF));
        Assert.IsFalse(m.Unit.InVmxOperation);
    }

    [TestMethod]
    public void GuestCodeVmxInstructionOutsideVmxOperationRaisesUd()
    {
        using var m = new VmxMachine();
        m.Code(a => { a.mov(rbx, 0x60000); a.vmptrld(__qword_ptr[rbx]); a.hlt(); }, VmxMachine.HostCode);
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 100_000));
        Assert.AreEqual(VmxMachine.StubAddress + 4 * 6 + 1, m.Cpu.Rip, "#UD handler (vector 6)");
    }

    [TestMethod]
    public void AHostOwnedProcessorEndsTheSliceWithTheExitAndRunsNothingAtHostRip()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.mov(eax, 7); a.cpuid(); });
        m.Code(a => a.ud2(), VmxMachine.HostCode);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        Assert.AreEqual(StopReason.VmExit, m.Cpu.Run(m.Cpu.Cycles + 100_000));
        Assert.AreEqual(VmxMachine.HostCode, m.Cpu.Rip, "HOST_RIP is loaded (SDM vol. 3, 28.5.3) and its UD2 never ran");
        Assert.IsNull(m.Cpu.PendingException);
        var exit = m.Cpu.LastGuestExit;
        Assert.AreEqual(Sim.Cpu.Virtualization.GuestExitSource.Vmx, exit.Source);
        Assert.AreEqual((ulong)VmExitReason.Cpuid, exit.Code);
        Assert.AreEqual(2u, exit.InstructionLength);
    }

    [TestMethod]
    public void GuestCodeLaunchesAGuestAndReturnsAtHostRip()
    {
        using var m = new VmxMachine().Ready();
        m.Cpu.HostOwned = false;
        m.Code(a => { a.mov(eax, 7); a.cpuid(); });
        const ulong host = VmxMachine.HostCode + 0x100;
        m.Code(a => { a.vmlaunch(); a.hlt(); }, host);
        m.Code(a => { a.mov(rbx, 0x99); a.hlt(); }, VmxMachine.HostCode);
        m.Cpu.Rip = host;
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 100_000));
        Assert.AreEqual(0x99UL, m.Cpu.Rbx, "the hypervisor continues at HOST_RIP after the exit");
        Assert.AreEqual((uint)VmExitReason.Cpuid, m.Unit.LastExit.ExitReason);
        Assert.AreEqual(1UL, m.Unit.ExitCount);
    }

    [TestMethod]
    public void GuestCodeInveptAndInvvpidReadTheirDescriptors()
    {
        using var m = new VmxMachine().Ready();
        var ept = new EptTables(m.Memory, VmxMachine.EptPool);
        m.Memory.Write(0x60000, 8, ept.Eptp());
        m.Memory.Write(0x60010, 8, 5);
        m.Memory.Write(0x60018, 8, 0x0000_8000_0000_0000);
        m.Code(a =>
        {
            a.mov(ebx, 0x60000);
            a.mov(eax, 1);
            a.invept(rax, __xmmword_ptr[rbx]);
            a.pushfq();
            a.mov(eax, 0);
            a.invvpid(rax, __xmmword_ptr[rbx + 0x10]);
            a.pushfq();
            a.hlt();
        }, VmxMachine.HostCode + 0x100);
        m.Cpu.Rip = VmxMachine.HostCode + 0x100;
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 10_000));
        Assert.AreEqual(0UL, m.Memory.Read(0x90000 - 8, 8) & (Rflags.CF | Rflags.ZF), "INVEPT single-context of a valid EPTP succeeds");
        Assert.AreEqual(Rflags.ZF, m.Memory.Read(0x90000 - 16, 8) & (Rflags.CF | Rflags.ZF),
            "INVVPID individual-address with a non-canonical address in bits 127:64: VMfailValid(28)");
        Assert.AreEqual(28UL, m.Read(VmcsField.VmInstructionError));
    }

    [TestMethod]
    public void ThirtyTwoBitHypervisorUsesThirtyTwoBitOperands()
    {
        // A 32-bit host with 4-MiB pages (CR0.PG is fixed to 1 in VMX operation).
        using var m = new VmxMachine();
        const ulong pd = 0x300000;
        for (ulong i = 0; i < 1024; i++) m.Memory.Write(pd + i * 4, 4, (i << 22) | 0x83);
        m.Cpu.LoadControlState(VmxMachine.HostCr0, pd, Cr4.PSE | Cr4.VMXE, 0);
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = VmxMachine.Code32Selector, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        m.Memory.Write(0x60000, 8, VmxMachine.VmxonRegion);
        m.Memory.Write(0x60008, 8, VmxMachine.VmcsRegion);
        m.Code(a =>
        {
            a.mov(ebx, 0x60000);
            a.vmxon(__qword_ptr[ebx]);
            a.vmclear(__qword_ptr[ebx + 8]);
            a.vmptrld(__qword_ptr[ebx + 8]);
            a.mov(eax, (int)VmcsField.TscOffset);
            a.mov(ecx, 0x12345678);
            a.vmwrite(eax, ecx);
            a.mov(eax, (int)VmcsField.TscOffset | 1);
            a.mov(ecx, 0x9ABC);
            a.vmwrite(eax, ecx);
            a.mov(eax, (int)VmcsField.TscOffset);
            a.vmread(edx, eax);
            a.vmread(__dword_ptr[ebx + 16], eax);
            a.mov(eax, (int)VmcsField.TscOffset | 1);
            a.vmread(esi, eax);
            a.hlt();
        }, VmxMachine.HostCode, 32);
        m.Cpu.Rsp = 0x90000;
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 100_000));
        Assert.IsTrue(m.Unit.InVmxOperation);
        Assert.AreEqual(0x12345678UL, m.Cpu.Rdx, "VMREAD of a 64-bit field with a 32-bit operand returns bits 31:0");
        Assert.AreEqual(0x12345678UL, m.Memory.Read(0x60010, 4));
        Assert.AreEqual(0x9ABCUL, m.Cpu.Rsi, "the high-access encoding reaches bits 63:32");
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = VmxMachine.Code32Selector, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmread((uint)VmcsField.TscOffset | 1, out var high));
        Assert.AreEqual(0x9ABCUL, high);
    }
}
