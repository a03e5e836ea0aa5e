using Sim.Microkernels.Kernel;
using Sim.Vmx;

namespace Sim.Microkernels.Tests.Kernel;

/// <summary><see cref="VmxUnit.ReadCurrent"/> is VMREAD (SDM vol. 3C, VMREAD): the same value and the same charge, and VMREAD's outcome where its checks do not pass.</summary>
[TestClass]
public sealed class VmreadFastPathTests
{
    [TestMethod]
    public void ReadsWhatVmreadReadsAndChargesAsVmread()
    {
        using var m = new VmxHostMachine();
        Assert.IsTrue(m.EnterVmxOperation().Succeeded);
        m.WriteField(VmcsField.GuestRip, 0x1234_5678_9abc);
        var before = m.Cpu.Cycles;
        m.Unit.Vmread(VmcsField.GuestRip, out var expected);
        var vmreadCost = m.Cpu.Cycles - before;
        before = m.Cpu.Cycles;
        Assert.AreEqual(expected, m.Unit.ReadCurrent(VmcsField.GuestRip));
        Assert.AreEqual(vmreadCost, m.Cpu.Cycles - before);
        Assert.AreEqual(0x1234_5678_9abcUL, expected);
    }

    [TestMethod]
    public void WithoutACurrentVmcsItFailsAsVmreadDoes()
    {
        using var m = new VmxHostMachine();
        Assert.IsTrue(m.EnterVmxOperation().Succeeded);
        m.WriteField(VmcsField.GuestRip, 0x42);
        Assert.IsTrue(m.Unit.Vmclear(VmxHostMachine.VmcsRegion).Succeeded);
        Assert.IsFalse(m.Unit.Vmread(VmcsField.GuestRip, out _).Succeeded);
        Assert.AreEqual(0UL, m.Unit.ReadCurrent(VmcsField.GuestRip));
    }
}
