using Sim.Cpu;
using Sim.Cpu.Registers;

namespace Sim.Svm.Tests;

/// <summary>
/// Bad VMCB contents never throw (AMD APM vol. 2, 15.5.1): thousands of random VMCBs (fixed seed),
/// each followed by VMRUN and a short run; the outcome must be one the APM allows: VMEXIT_INVALID
/// exactly when a listed check is violated, otherwise a guest that runs or exits with a defined EXITCODE.
/// </summary>
[TestClass]
public sealed class VmcbFuzzTests
{
    private static readonly int[] Fields =
    [
        VmcbLayout.InterceptCr, VmcbLayout.InterceptDr, VmcbLayout.InterceptExceptions, VmcbLayout.InterceptMisc1, VmcbLayout.InterceptMisc2,
        VmcbLayout.PauseFilterCount, VmcbLayout.IopmBasePa, VmcbLayout.MsrpmBasePa, VmcbLayout.TscOffset, VmcbLayout.GuestAsid, VmcbLayout.TlbControl,
        VmcbLayout.VIntr, VmcbLayout.InterruptShadow, VmcbLayout.NpEnable, VmcbLayout.EventInj, VmcbLayout.NCr3, VmcbLayout.VmcbClean,
        VmcbLayout.Es, VmcbLayout.Cs, VmcbLayout.Cs + 2, VmcbLayout.Ss + 2, VmcbLayout.Ds, VmcbLayout.Gdtr, VmcbLayout.Idtr, VmcbLayout.Idtr + 4,
        VmcbLayout.Cpl, VmcbLayout.Efer, VmcbLayout.Cr4, VmcbLayout.Cr3, VmcbLayout.Cr0, VmcbLayout.Dr7, VmcbLayout.Dr6, VmcbLayout.Rflags,
        VmcbLayout.Rip, VmcbLayout.Rsp, VmcbLayout.Rax, VmcbLayout.Cr2, VmcbLayout.GPat,
    ];

    private static ulong RandomValue(Random rng) => rng.Next(4) switch
    {
        0 => (ulong)rng.NextInt64(),
        1 => 1UL << rng.Next(64),
        2 => (ulong)rng.Next(0x100),
        _ => 0,
    };

    /// <summary>An oracle written from the list of 15.5.1 alone: whether VMRUN must fail.</summary>
    private static bool MustFail(Vmcb v, Sim.Cpu.Memory.PhysicalMemory memory)
    {
        var efer = v.Read(VmcbLayout.Efer, 8);
        var cr0 = v.Read(VmcbLayout.Cr0, 8);
        var cr4 = v.Read(VmcbLayout.Cr4, 8);
        var cr3 = v.Read(VmcbLayout.Cr3, 8);
        var cs = v.Read(VmcbLayout.Cs + 2, 2);
        var longMode = (efer & Efer.LME) != 0 && (cr0 & Cr0.PG) != 0;
        var amdCr4 = Cr4.TSD | Cr4.DE | Cr4.PSE | Cr4.PAE | Cr4.PGE | Cr4.PCE | Cr4.OSFXSR | Cr4.OSXMMEXCPT | Cr4.OSXSAVE | Cr4.UMIP | Cr4.FSGSBASE | Cr4.PCIDE | Cr4.SMEP | Cr4.SMAP;
        var eventInj = v.Read(VmcbLayout.EventInj, 8);
        var type = (eventInj >> 8) & 7;
        var vector = eventInj & 0xFF;
        var misc1 = v.Read(VmcbLayout.InterceptMisc1, 4);
        // 15.20: also an event impossible in the guest's mode, #BR in 64-bit mode.
        var badEvent = (eventInj & (1UL << 31)) != 0 && (type is 1 or 5 or 6 or 7 || (type == 3 && (vector == 2 || vector > 31))
            || (type == 3 && vector == 5 && longMode && (cs & 0x200) != 0));
        var maxPa = 1UL << Processor.MaxPhysicalAddressBits;
        // The permission maps' extent is checked whether or not the MSR and IOIO intercepts are on (15.5.1).
        var badMap = (v.Read(VmcbLayout.MsrpmBasePa, 8) & ~0xFFFUL) > maxPa - 0x2000
            || (v.Read(VmcbLayout.IopmBasePa, 8) & ~0xFFFUL) > maxPa - 0x3000;
        var np = (v.Read(VmcbLayout.NpEnable, 8) & 1) != 0;
        var pat = v.Read(VmcbLayout.GPat, 8);
        var badPat = np && Enumerable.Range(0, 8).Any(i => ((pat >> (8 * i)) & 0xFF) is not (0 or 1 or 4 or 5 or 6 or 7));
        // 15.25.4: nCR3 in the 64-bit host's CR3 format.
        var badNCr3 = np && (v.Read(VmcbLayout.NCr3, 8) & ~(maxPa - 1)) != 0;
        // 15.5.1: legacy PAE paging without nested paging reads the PDPEs; a present one with a reserved bit fails.
        var badPdpe = !np && !longMode && (cr0 & Cr0.PG) != 0 && (cr4 & Cr4.PAE) != 0
            && Enumerable.Range(0, 4).Select(i => memory.Read((cr3 & 0xFFFFFFE0UL) + (ulong)i * 8, 8)).Any(e => (e & 1) != 0 && (e & (~(maxPa - 1) | 0x1E6)) != 0);
        return (efer & Efer.SVME) == 0
            || ((cr0 & Cr0.CD) == 0 && (cr0 & Cr0.NW) != 0)
            || (cr0 >> 32) != 0
            || (cr3 & (longMode ? ~(maxPa - 1) : 0xFFFFFFFF00000000UL)) != 0
            || (cr4 & ~amdCr4) != 0
            || (v.Read(VmcbLayout.Dr6, 8) >> 32) != 0
            || (v.Read(VmcbLayout.Dr7, 8) >> 32) != 0
            || (efer & ~(Efer.SCE | Efer.LME | Efer.LMA | Efer.NXE | Efer.SVME)) != 0
            || (longMode && ((cr4 & Cr4.PAE) == 0 || (cr0 & Cr0.PE) == 0 || ((cs & 0x200) != 0 && (cs & 0x400) != 0)))
            || (v.Read(VmcbLayout.InterceptMisc2, 4) & 1) == 0
            || v.Read(VmcbLayout.GuestAsid, 4) == 0
            || badMap || badEvent || badPat || badNCr3 || badPdpe;
    }

    private static readonly HashSet<ulong> DefinedExitCodes =
    [
        .. Enumerable.Range(0, 0x8E).Select(i => (ulong)i), SvmExitCode.Invpcid, SvmExitCode.Npf,
    ];

    [TestMethod]
    public void RandomVmcbsNeverThrowAndFailOnlyAsTheApmAllows() => FuzzVmcb(20261201, 3000);

    /// <summary>The same with 100,000 VMCBs: the long-running category (`sim`'s README, Tests).</summary>
    [TestMethod]
    [TestCategory("Long")]
    public void ManyRandomVmcbsFailOnlyAsTheApmAllows() => FuzzVmcb(4242, 100_000);

    private static void FuzzVmcb(int seed, int iterations)
    {
        var rng = new Random(seed);
        int invalid = 0, entered = 0, exited = 0;
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            using var m = new SvmTestMachine(memorySize: 2 << 20);
            var v = m.Vmcb;
            if (rng.Next(4) == 0)
            {
                var bytes = new byte[0x700];
                rng.NextBytes(bytes);
                m.Memory.WriteBytes(SvmTestMachine.VmcbPa, bytes);
            }
            else
            {
                for (var i = rng.Next(1, 8); i > 0; i--)
                {
                    var size = 1 << rng.Next(4);
                    var offset = rng.Next(3) == 0 ? rng.Next(0x700 - 8) : Fields[rng.Next(Fields.Length)];
                    v.Write(offset, size, RandomValue(rng));
                }
            }
            var code = new byte[64];
            rng.NextBytes(code);
            m.Memory.WriteBytes(SvmTestMachine.GuestCode, code);
            var mustFail = MustFail(v, m.Memory);
            var context = $"iteration {iteration}";

            var result = m.Unit.Vmrun(SvmTestMachine.VmcbPa);
            if (mustFail)
            {
                Assert.AreEqual(SvmResult.VmexitInvalid, result, context);
                Assert.AreEqual(SvmExitCode.Invalid, v.ExitCode, context);
                Assert.AreNotEqual(VmcbConsistencyCheck.None, m.Unit.LastConsistencyFailure, context);
                invalid++;
            }
            else
            {
                Assert.AreEqual(SvmResult.Success, result, context);
                entered++;
                if (m.Exits == 0) m.Cpu.Run(m.Cpu.Cycles + 2000);
                if (m.Exits > 0)
                {
                    exited++;
                    Assert.IsTrue(DefinedExitCodes.Contains(v.ExitCode), $"{context}: EXITCODE {v.ExitCode:x}");
                    Assert.IsFalse(m.Unit.InGuest, context);
                }
            }
            if (m.Exits > 0)
            {
                Assert.AreEqual(SvmTestMachine.HostCode, m.Cpu.Rip, $"{context}: the host resumes after VMRUN");
                Assert.IsTrue(m.Cpu.InLongMode, context);
                Assert.AreEqual(0, m.Cpu.Cpl, context);
            }
        }
        Assert.IsTrue(invalid > iterations / 30 && entered > iterations / 30 && exited > iterations / 60, $"the patterns reach both outcomes: {invalid} invalid, {entered} entered, {exited} exited");
    }

    [TestMethod]
    public void RandomVmcbsRunFromHostCodeNeverThrow()
    {
        var rng = new Random(15051);
        for (var iteration = 0; iteration < 500; iteration++)
        {
            using var m = new SvmTestMachine(memorySize: 2 << 20);
            m.Cpu.HostOwned = false;
            var v = m.Vmcb;
            for (var i = rng.Next(1, 6); i > 0; i--)
                v.Write(Fields[rng.Next(Fields.Length)], 1 << rng.Next(4), RandomValue(rng));
            var code = new byte[64];
            rng.NextBytes(code);
            m.Memory.WriteBytes(SvmTestMachine.GuestCode, code);
            m.Code(64, SvmTestMachine.HostCode, a =>
            {
                a.mov(Iced.Intel.AssemblerRegisters.rax, SvmTestMachine.VmcbPa);
                a.vmrun();
                a.hlt();
            });
            var mustFail = MustFail(v, m.Memory);
            m.Cpu.Run(m.Cpu.Cycles + 5000);
            if (mustFail || !m.Unit.InGuest)
            {
                Assert.AreEqual(SvmTestMachine.HostCode + 14, m.Cpu.Rip, $"iteration {iteration}: the host halts after its VMRUN (exit {v.ExitCode:x})");
                Assert.IsTrue(mustFail ? v.ExitCode == SvmExitCode.Invalid : DefinedExitCodes.Contains(v.ExitCode), $"iteration {iteration}: EXITCODE {v.ExitCode:x}");
            }
        }
    }
}
