using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Microkernels.Kernel;
using Sim.Microkernels.Nova;
using Sim.Platform;
using Sim.Vmx;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// Which exits NOVA keeps and which it forwards (reference §3.3; alex-ab/NOVA r10 src/ec_vmx.cpp, src/ec_svm.cpp):
/// CR accesses emulated by the kernel with only CR8 and the PDPTE-update case reaching portal 28, #NM under lazy FPU
/// switching, EPT violations and nested page faults with their qualification, and failed VM entries.
/// </summary>
[TestClass]
public sealed class KernelExitTests
{
    private const int CrPortal = (int)VmExitReason.ControlRegisterAccess;

    private static byte[] RealMode(Action<Assembler> build) => NovaGuest.RealMode(build);

    private static void Park(Assembler a) => NovaGuest.Park(a);

    private static int Cpuid(CpuVendor vendor) => NovaGuest.CpuidPortal(vendor);

    private static (int, Mtd, Func<ulong, PortalReply>) RealModeStartup(NovaVm vm, CpuVendor vendor) => NovaGuest.RealModeStartup(vm, vendor);

    /// <summary>MOV EAX,CR0 (3 bytes); OR EAX,40000000H (6); MOV CR0,EAX (3): sets CD; MOV EBX,CR0 (3); CPUID.</summary>
    private static byte[] SetCdThenCpuid() => RealMode(a =>
    {
        a.mov(eax, cr0);
        a.or(eax, 0x40000000);
        a.mov(cr0, eax);
        a.mov(ebx, cr0);
        a.cpuid();
        Park(a);
    });

    private static string Failure(NovaVm vm, RunResult result) => $"{result.Message}; kernel: {string.Join("; ", vm.Kernel.Log)}; exits: {string.Join(",", vm.Exits)}";

    [TestMethod]
    public void AGuestCr0WriteOfAMaskedBitIsEmulatedByTheKernelWithoutAPortalExit()
    {
        using var vm = new NovaVm();
        ulong rbx = 0, utcbCr0 = 0;
        vm.Build(SetCdThenCpuid(),
        [
            RealModeStartup(vm, CpuVendor.Intel),
            (CrPortal, Mtd.RipLen, _ => PortalReply.Resume),
            (Cpuid(CpuVendor.Intel), Mtd.GprAcdb | Mtd.Cr | Mtd.RipLen, _ =>
            {
                rbx = vm.U(UtcbLayout.Rbx);
                utcbCr0 = vm.U(UtcbLayout.Cr0);
                vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, Failure(vm, result));
        CollectionAssert.AreEqual(new[] { NovaKernel.PortalStartup, Cpuid(CpuVendor.Intel) }, vm.Exits.Select(e => e.Portal).ToArray(), "no exit reached portal 28");
        Assert.AreEqual(2UL, vm.VcpuEc.ExitCount, "the CR-access exit (kept by the kernel) and the CPUID exit");
        Assert.AreNotEqual(0UL, rbx & Cr0.CD, "the guest reads back the CD it wrote (the read shadow)");
        Assert.AreEqual(0x40000010UL, utcbCr0 & 0xFFFFFFFF, "the CR0 the VMM sees is the guest's value");
        Assert.AreEqual(NovaVm.GuestCode + 3 + 6 + 3 + 3, vm.Exits[1].Rip, "the kernel moved RIP past the MOV to CR0");
    }

    [TestMethod]
    public void AnAmdGuestWithNestedPagingWritesCr0WithoutAnyExit()
    {
        using var vm = new NovaVm(CpuVendor.Amd);
        ulong rbx = 0;
        vm.Build(SetCdThenCpuid(),
        [
            RealModeStartup(vm, CpuVendor.Amd),
            (Cpuid(CpuVendor.Amd), Mtd.GprAcdb, _ =>
            {
                rbx = vm.U(UtcbLayout.Rbx);
                vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, Failure(vm, result));
        Assert.AreEqual(1UL, vm.VcpuEc.ExitCount, "NOVA masks no CR0 bit with NPT and eager FPU: no CR intercept");
        Assert.AreNotEqual(0UL, rbx & Cr0.CD);
    }

    /// <summary>A 64-bit guest at 1000H with identity page tables at 3000H–5FFFH (one 2 MiB page), CR8-load exiting requested.</summary>
    private static void LoadLongModeState(NovaVm vm)
    {
        var ram = NovaVm.GuestRam;
        vm.Machine.Memory.Write(ram + 0x3000, 8, 0x4000 | 3);
        vm.Machine.Memory.Write(ram + 0x4000, 8, 0x5000 | 3);
        vm.Machine.Memory.Write(ram + 0x5000, 8, 0x83);
        vm.LoadRealModeState(NovaVm.GuestCode, ProcessorBasedControls.HltExiting | ProcessorBasedControls.Cr8LoadExiting, 0, svm: false);
        vm.SetU(UtcbLayout.Cr0, Cr0.PG | Cr0.NE | Cr0.ET | Cr0.PE);
        vm.SetU(UtcbLayout.Cr3, 0x3000);
        vm.SetU(UtcbLayout.Cr4, Cr4.PAE);
        vm.SetU(UtcbLayout.Efer, Efer.LME | Efer.LMA);
        SetSegment(vm, UtcbLayout.Cs, 0x08, 0xA9B);
        foreach (var seg in new[] { UtcbLayout.Ss, UtcbLayout.Ds, UtcbLayout.Es, UtcbLayout.Fs, UtcbLayout.Gs }) SetSegment(vm, seg, 0x10, 0xC93);
        vm.SetU(UtcbLayout.Mtd, vm.U(UtcbLayout.Mtd) | (ulong)Mtd.Efer);
    }

    private static void SetSegment(NovaVm vm, int offset, ushort selector, ushort ar)
    {
        vm.SetU(offset + UtcbLayout.SegmentSel, selector, 2);
        vm.SetU(offset + UtcbLayout.SegmentAr, ar, 2);
        vm.SetU(offset + UtcbLayout.SegmentLimit, 0xFFFFFFFF, 4);
        vm.SetU(offset + UtcbLayout.SegmentBase, 0);
    }

    [TestMethod]
    public void Cr8AccessesAndACr0WriteThatNeedsThePdptesReloadedGoToPortal28()
    {
        using var vm = new NovaVm();
        var crExits = new List<(ulong Qual, ulong Rip, ulong Cr0, byte[] Opcode)>();
        vm.Build(IcedAssembly.Assemble(64, NovaVm.GuestCode, a =>
        {
            a.mov(eax, 5);
            a.mov(cr8, rax);
            a.mov(rax, cr0);
            a.bts(rax, 30);
            a.mov(cr0, rax);
            a.cpuid();
            Park(a);
        }),
        [
            (NovaKernel.PortalStartup, Mtd.None, _ =>
            {
                LoadLongModeState(vm);
                return PortalReply.Resume;
            }),
            (CrPortal, Mtd.RipLen | Mtd.Qual | Mtd.Cr, _ =>
            {
                var rip = vm.U(UtcbLayout.Rip);
                var opcode = new byte[3];
                vm.Machine.Memory.ReadBytes(NovaVm.GuestRam + rip, opcode);
                crExits.Add((vm.U(UtcbLayout.Qual0), rip, vm.U(UtcbLayout.Cr0), opcode));
                vm.SetU(UtcbLayout.Rip, rip + vm.U(UtcbLayout.InstLen));
                vm.SetU(UtcbLayout.Mtd, (ulong)Mtd.RipLen);
                return PortalReply.Resume;
            }),
            (Cpuid(CpuVendor.Intel), Mtd.RipLen, _ =>
            {
                vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, Failure(vm, result));
        Assert.AreEqual(2, crExits.Count, "MOV to CR8, then the MOV to CR0 changing CD in a PAE-paging guest");
        Assert.AreEqual(8UL, crExits[0].Qual, "CR8, MOV to CR, from RAX (SDM table 28-3)");
        CollectionAssert.AreEqual(new byte[] { 0x44, 0x0F, 0x22 }, crExits[0].Opcode, "RIP at the MOV to CR8");
        Assert.AreEqual(0UL, crExits[1].Qual, "CR0, MOV to CR, from RAX");
        CollectionAssert.AreEqual(new byte[] { 0x0F, 0x22, 0xC0 }, crExits[1].Opcode, "RIP still at the MOV to CR0: NOVA does not move it in this case");
        Assert.AreNotEqual(0UL, crExits[1].Cr0 & Cr0.CD, "the kernel has written CR0 before it forwards the exit");
    }

    private static byte[] FpuThenCpuid() => RealMode(a =>
    {
        a.fninit();
        a.fld1();
        a.mov(eax, cr0);
        a.mov(ebx, eax);
        a.cpuid();
        Park(a);
    });

    [TestMethod]
    [DataRow(CpuVendor.Intel, true)]
    [DataRow(CpuVendor.Amd, true)]
    [DataRow(CpuVendor.Intel, false)]
    [DataRow(CpuVendor.Amd, false)]
    public void DeviceNotAvailableIsHandledByTheKernelAndNeverForwarded(CpuVendor vendor, bool lazyFpu)
    {
        using var vm = new NovaVm(vendor, lazyFpu: lazyFpu);
        ulong rbx = 0;
        vm.Build(FpuThenCpuid(),
        [
            RealModeStartup(vm, vendor),
            (Cpuid(vendor), Mtd.GprAcdb, _ =>
            {
                rbx = vm.U(UtcbLayout.Rbx);
                vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        Assert.AreEqual(!lazyFpu, vm.VcpuEc.Registers.FpuOn, "a lazy-FPU vCPU starts without the FPU");
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, Failure(vm, result));
        CollectionAssert.AreEqual(new[] { NovaKernel.PortalStartup, Cpuid(vendor) }, vm.Exits.Select(e => e.Portal).ToArray());
        Assert.AreEqual(lazyFpu ? 2UL : 1UL, vm.VcpuEc.ExitCount, lazyFpu ? "#NM at FNINIT, kept by the kernel, then CPUID" : "only CPUID");
        Assert.IsTrue(vm.VcpuEc.Registers.FpuOn);
        Assert.AreEqual(0UL, rbx & Cr0.TS, "the guest never set TS, and sees none");
        var st0 = vm.VcpuEc.Registers.FpuImage.AsSpan(32, 10).ToArray();
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F }, st0, "FLD1 ran after the FPU was handed over: ST0 = 1.0");
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void AGuestPhysicalFaultReachesItsPortalWithTheQualificationAndResumesOnceMemoryIsDelegated(CpuVendor vendor)
    {
        using var vm = new NovaVm(vendor);
        var svm = vendor == CpuVendor.Amd;
        var faultPortal = svm ? (int)NovaExit.Npt : (int)NovaExit.VmxEptViolation;
        const ulong extra = 0x300000, gpa = 0x20010;
        vm.Machine.Memory.Write(extra + 0x10, 4, 0xCAFEF00D);
        var faults = new List<(ulong Qual0, ulong Qual1)>();
        ulong rbx = 0;
        vm.Build(RealMode(a =>
        {
            a.mov(ax, 0x2000);
            a.mov(ds, ax);
            a.mov(ebx, __dword_ptr[0x10]);
            a.cpuid();
            Park(a);
        }),
        [
            RealModeStartup(vm, vendor),
            (faultPortal, Mtd.Qual | Mtd.RipLen, _ =>
            {
                faults.Add((vm.U(UtcbLayout.Qual0), vm.U(UtcbLayout.Qual1)));
                NovaVm.Check(vm.Kernel.DelegateMemory(NovaVm.VmPd, extra, 0x20000, 0x1000, GuestPageRights.All));
                vm.SetU(UtcbLayout.Mtd, 0);
                return PortalReply.Resume;
            }),
            (Cpuid(vendor), Mtd.GprAcdb, _ =>
            {
                rbx = vm.U(UtcbLayout.Rbx);
                vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, Failure(vm, result));
        Assert.AreEqual(1, faults.Count, "one fault, then the load goes through");
        Assert.AreEqual(gpa, faults[0].Qual1, "qual[1]: the guest-physical address");
        if (svm)
        {
            Assert.AreEqual(0UL, faults[0].Qual0 & 3, "EXITINFO1: not present, a read");
            Assert.AreNotEqual(0UL, faults[0].Qual0 & (1UL << 32), "EXITINFO1 bit 32: the final guest-physical address faulted");
        }
        else
        {
            Assert.AreEqual(1UL, faults[0].Qual0 & 7, "exit qualification: a data read");
            Assert.AreEqual(0UL, faults[0].Qual0 & 0x38, "the address was not mapped at all");
        }
        Assert.AreEqual(0xCAFEF00DUL, rbx, "the instruction ran again and read the delegated page");
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void AFailedVmEntryGoesToTheInvalidStatePortal(CpuVendor vendor)
    {
        using var vm = new NovaVm(vendor);
        var svm = vendor == CpuVendor.Amd;
        var portal = svm ? (int)NovaExit.InvalidState : (int)NovaExit.VmxInvalidGuestState;
        vm.Build(RealMode(Park),
        [
            (NovaKernel.PortalStartup, Mtd.None, _ =>
            {
                vm.LoadRealModeState(NovaVm.GuestCode, svm ? 1u << 18 : 1u << 7, svm ? 1u : 1u << 7, svm);
                // VMX: TR must be a busy TSS (SDM 27.3.1.2); SVM: CR0.NW without CD is illegal (APM 15.5.1).
                if (svm) vm.SetU(UtcbLayout.Cr0, 0x10 | Cr0.NW);
                else vm.SetU(UtcbLayout.Tr + UtcbLayout.SegmentAr, 0x81, 2);
                return PortalReply.Resume;
            }),
            (portal, Mtd.RipLen, _ =>
            {
                vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, Failure(vm, result));
        CollectionAssert.AreEqual(new[] { NovaKernel.PortalStartup, portal }, vm.Exits.Select(e => e.Portal).ToArray());
        Assert.IsFalse(vm.VcpuEc.Dead);
    }
}
