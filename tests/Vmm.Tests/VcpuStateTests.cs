using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests;

/// <summary>Genode <c>Vcpu_state</c> semantics (ABI notes §1.4, "charged (G21/GH) semantics").</summary>
[TestClass]
public sealed class VcpuStateTests
{
    [TestMethod]
    public void ChargeSetsValueAndCharged()
    {
        var state = new VcpuState();
        Assert.IsFalse(state.Ip.Charged);
        state.Ip.Charge(0xfff0);
        Assert.IsTrue(state.Ip.Charged);
        Assert.AreEqual(0xfff0UL, state.Ip.Value);
    }

    [TestMethod]
    public void SetChargedKeepsTheValue()
    {
        var state = new VcpuState();
        state.Ax.Charge(5);
        state.Discharge();
        state.Ax.SetCharged();
        Assert.IsTrue(state.Ax.Charged);
        Assert.AreEqual(5UL, state.Ax.Value);
    }

    [TestMethod]
    public void UpdateSetsOnlyWhenNotYetCharged()
    {
        var state = new VcpuState();
        state.Cx.Update(1);
        Assert.IsTrue(state.Cx.Charged);
        Assert.AreEqual(1UL, state.Cx.Value);
        state.Cx.Update(2);
        Assert.AreEqual(1UL, state.Cx.Value);
    }

    [TestMethod]
    public void DischargeClearsAllChargedFlagsAndKeepsValues()
    {
        var state = new VcpuState();
        state.Ip.Charge(0xff81);
        state.Gdtr.Charge(new VcpuState.Range(0, 0xffff));
        state.TscAux.Charge(0xaffe0001);
        state.Xcr0.Charge(7);
        state.Fpu.Charge(image => image.Length);

        state.Discharge();

        Assert.IsFalse(state.Ip.Charged);
        Assert.AreEqual(0xff81UL, state.Ip.Value);
        Assert.IsFalse(state.Gdtr.Charged);
        Assert.AreEqual(0xffffUL, state.Gdtr.Value.Base);
        Assert.IsFalse(state.TscAux.Charged);
        Assert.AreEqual(0xaffe0001UL, state.TscAux.Value);
        Assert.IsFalse(state.Xcr0.Charged);
        Assert.IsFalse(state.Fpu.Charged);
        Assert.AreEqual(VcpuState.FpuState.StateSize, state.Fpu.Size);
    }

    [TestMethod]
    public void DischargeZeroesThePlainExitReason()
    {
        var state = new VcpuState { ExitReason = VmExitReason.Startup };
        state.Discharge();
        Assert.AreEqual(0u, state.ExitReason);
    }

    [TestMethod]
    public void TheFpuIsA2560ByteXsaveImageAligned64WithTheSizeTheWriterReports()
    {
        var state = new VcpuState();
        int length = 0;
        state.Fpu.Charge(image =>
        {
            length = image.Length;
            image[576] = 0x5a;
            return 832;
        });
        Assert.AreEqual(2560, length);
        Assert.IsTrue(state.Fpu.Charged);
        Assert.AreEqual(832, state.Fpu.Size);
        byte seen = 0;
        state.Fpu.WithState(image => seen = image[576]);
        Assert.AreEqual(0x5a, seen);
        Assert.AreEqual(0UL, (ulong)state.Fpu.Address % 64);
    }

    [TestMethod]
    public void RangeIsLimitThenBaseSoThePositionalInitialiserOfTheTestSwapsThem()
    {
        var gdtr = new VcpuState.Range(0, 0xffff);
        Assert.AreEqual(0u, gdtr.Limit);
        Assert.AreEqual(0xffffUL, gdtr.Base);
    }

    [TestMethod]
    public void FieldsFollowTheDeclarationOrderOfVcpuStateH()
    {
        string[] expected =
        [
            "Ax", "Cx", "Dx", "Bx", "Bp", "Si", "Di", "Sp", "Ip", "IpLen", "Flags",
            "Es", "Ds", "Fs", "Gs", "Cs", "Ss", "Tr", "Ldtr", "Gdtr", "Idtr",
            "Cr0", "Cr2", "Cr3", "Cr4", "Dr7", "SysenterIp", "SysenterSp", "SysenterCs",
            "QualPrimary", "QualSecondary", "CtrlPrimary", "CtrlSecondary", "InjInfo", "InjError",
            "IntrState", "ActvState", "Tsc", "TscOffset", "TscAux", "Efer", "Pdpte0", "Pdpte1", "Pdpte2", "Pdpte3",
            "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
            "Star", "Lstar", "Cstar", "Fmask", "KernelGsBase", "Tpr", "TprThreshold", "Xcr0", "Xss",
            "ExitReason", "Fpu",
        ];
        CollectionAssert.AreEqual(expected, StateFields.InDeclarationOrder(typeof(VcpuState)));
    }
}
