using Sim.Cpu;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>Bad VMCS contents never throw: they end in one of the SDM's outcomes. Several processors run guests at once.</summary>
[TestClass]
public sealed class RobustnessTests
{
    [TestMethod]
    public void RandomVmwritesAndVmlaunchEndInAnSdmOutcome() => FuzzVmcs(20261201, 250);

    /// <summary>The same with 10,000 VMCSs: the long-running category (`sim`'s README, Tests).</summary>
    [TestMethod]
    [TestCategory("Long")]
    public void ManyRandomVmcsesEndInAnSdmOutcome() => FuzzVmcs(4242, 10_000);

    private static void FuzzVmcs(int seed, int rounds)
    {
        var random = new Random(seed);
        var fields = Vmcs.SupportedFields;
        var outcomes = new Dictionary<string, int>();
        var writes = 0;
        for (var round = 0; round < rounds; round++)
        {
            using var m = new VmxMachine().Ready();
            m.Code(a => { a.mov(ebx, 0x600000); a.mov(rax, __qword_ptr[rbx]); a.cpuid(); a.@out(0x80, al); a.int3(); a.hlt(); });
            var count = random.Next(1, 25);
            for (var i = 0; i < count; i++, writes++)
            {
                var encoding = random.Next(10) == 0 ? (ulong)random.Next(0x8000) : (ulong)fields[random.Next(fields.Length)];
                m.Unit.Vmread(encoding, out var old);
                var value = random.Next(4) switch
                {
                    0 => old ^ (1UL << random.Next(64)),
                    1 => (ulong)random.NextInt64(),
                    2 => (ulong)random.Next(0x10000),
                    _ => old | (1UL << random.Next(32)),
                };
                var w = m.Unit.Vmwrite(encoding, value);
                Assert.IsTrue(w.Kind is VmxResultKind.Succeed or VmxResultKind.FailValid, $"VMWRITE {encoding:x}: {w}");
                if (w.Kind == VmxResultKind.FailValid)
                    Assert.IsTrue(w.Error is VmxInstructionError.UnsupportedVmcsComponent or VmxInstructionError.VmwriteToReadOnlyVmcsComponent);
            }
            var r = m.Unit.Vmlaunch();
            switch (r.Kind)
            {
                case VmxResultKind.FailValid:
                    Assert.IsTrue(r.Error is VmxInstructionError.VmEntryWithInvalidControlFields or VmxInstructionError.VmEntryWithInvalidHostStateFields, r.ToString());
                    break;
                case VmxResultKind.EntryFailure:
                    // Either reported as reason 33/34, or the host MSR-load list failed too: VMX abort (28.7).
                    if (m.Exits.Count > 0) Assert.IsTrue(m.Exits[^1].ExitReason is 0x80000021 or 0x80000022);
                    else Assert.AreEqual(VmxUnit.AbortLoadingHostMsrs, (uint)m.Memory.Read(VmxMachine.VmcsRegion + 4, 4));
                    break;
                case VmxResultKind.Succeed or VmxResultKind.VmExit:
                    var stop = m.Cpu.Run(m.Cpu.Cycles + 20_000);
                    Assert.IsTrue(Enum.IsDefined(stop));
                    foreach (var e in m.Exits)
                        Assert.IsTrue(Enum.IsDefined(e.BasicReason), $"exit reason {e.ExitReason:x}");
                    break;
                default:
                    Assert.Fail($"VMLAUNCH of a fresh VMCS: {r}");
                    break;
            }
            var key = r.Kind == VmxResultKind.FailValid ? $"VMfailValid({(int)r.Error})" : r.Kind.ToString();
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }
        Assert.IsTrue(writes >= rounds * 8, $"{writes} VMWRITEs");
        Assert.IsTrue(outcomes.Count >= 3, string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}")));
    }

    [TestMethod]
    public void TwoProcessorsRunTheirOwnGuests()
    {
        using var m = new VmxMachine(cpus: 2);
        m.Ready(0, VmxMachine.VmcsRegion);
        m.Ready(1, VmxMachine.SecondVmcs);
        const ulong second = VmxMachine.GuestCode + 0x1000;
        m.Code(a =>
        {
            a.mov(eax, 0x500000);
            a.mov(__dword_ptr[rax], 0x11);
            a.mov(ecx, 200);
            var spin = a.CreateLabel();
            a.Label(ref spin);
            a.nop();
            a.loop(spin);
            a.cpuid();
        });
        m.Code(a => { a.mov(eax, 0x500008); a.mov(__dword_ptr[rax], 0x22); a.hlt(); }, second);
        m.Write(VmcsField.GuestRip, second, cpu: 1);
        Assert.AreEqual(VmxResult.Succeed, m.Units[0].Vmlaunch());
        Assert.AreEqual(VmxResult.Succeed, m.Units[1].Vmlaunch());
        Assert.IsTrue(m.Units[0].InNonRootOperation && m.Units[1].InNonRootOperation, "both processors in VMX non-root operation at once");
        var b = m.RunToExit(1);
        var a0 = m.RunToExit(0);
        Assert.AreEqual(VmExitReason.Hlt, b.BasicReason);
        Assert.AreEqual(VmExitReason.Cpuid, a0.BasicReason);
        Assert.AreEqual(0x11UL, m.Memory.Read(0x500000, 4));
        Assert.AreEqual(0x22UL, m.Memory.Read(0x500008, 4));
        Assert.AreEqual(second + 11, m.Read(VmcsField.GuestRip, cpu: 1));
        Assert.AreEqual(VmxMachine.VmcsRegion, m.Units[0].CurrentVmcs!.Address);
        Assert.AreEqual(VmxMachine.SecondVmcs, m.Units[1].CurrentVmcs!.Address);
    }

    [TestMethod]
    public void ExitAndEntryAllocateNothing()
    {
        // The world switch runs millions of times: a VMRESUME, a CPUID exit with its information, the host
        // state load, and an exception exit with IDT-vectoring information allocate nothing once warmed up.
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.cpuid(); a.ud2(); });
        m.Write(VmcsField.ExceptionBitmap, 1 << 6);
        void Round()
        {
            for (var i = 0; i < 50; i++)
            {
                Assert.AreEqual(VmxResultKind.Succeed, m.Unit.Vmwrite(VmcsField.GuestRip, VmxMachine.GuestCode).Kind);
                var r = m.Unit.ExitCount == 0 ? m.Unit.Vmlaunch() : m.Unit.Vmresume();
                Assert.AreEqual(VmxResultKind.Succeed, r.Kind);
                m.Cpu.Run(m.Cpu.Cycles + 10_000);
                Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmresume());
                m.Cpu.Run(m.Cpu.Cycles + 10_000);
            }
        }
        Round();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var count = m.Unit.ExitCount;
        Round();
        Assert.AreEqual(count + 100, m.Unit.ExitCount);
        Assert.AreEqual(0L, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
