using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests;

/// <summary>Genode 19.05 <c>Vm_state</c> semantics (ABI notes §1.4, "valid (G19) semantics").</summary>
[TestClass]
public sealed class VmStateTests
{
    [TestMethod]
    public void RegistersStartInvalid()
    {
        var state = new VmState();
        Assert.IsFalse(state.Ip.Valid);
        Assert.IsFalse(state.Cs.Valid);
        Assert.IsFalse(state.Fpu.Valid);
    }

    [TestMethod]
    public void SettingAValueMakesItValid()
    {
        var state = new VmState();
        state.Ip.SetValue(0xfff0);
        Assert.IsTrue(state.Ip.Valid);
        Assert.AreEqual(0xfff0UL, state.Ip.Value);
    }

    [TestMethod]
    public void AssignmentFromAValidRegisterCopiesValueAndFlag()
    {
        var target = new VmState.Register<ulong>();
        var source = new VmState.Register<ulong>();
        source.SetValue(7);
        target.Assign(source);
        Assert.IsTrue(target.Valid);
        Assert.AreEqual(7UL, target.Value);
    }

    [TestMethod]
    public void AssignmentFromAnInvalidRegisterInvalidatesButKeepsTheValue()
    {
        var target = new VmState.Register<ulong>();
        target.SetValue(0x1234);
        target.Assign(new VmState.Register<ulong>());
        Assert.IsFalse(target.Valid);
        Assert.AreEqual(0x1234UL, target.Value);
    }

    [TestMethod]
    public void AssigningADefaultStateInvalidatesAllKeepsValuesAndZeroesTheExitReason()
    {
        var state = new VmState { ExitReason = VmExitReason.IntelHlt };
        state.Ip.SetValue(0xfff0);
        state.Cs.SetValue(new Segment(0xf000, 0x93, 0xffff, 0xffff0000));
        state.Fpu.Value(b => b[0] = 1);

        state.Assign(new VmState());

        Assert.IsFalse(state.Ip.Valid);
        Assert.AreEqual(0xfff0UL, state.Ip.Value);
        Assert.IsFalse(state.Cs.Valid);
        Assert.AreEqual(0xffff0000UL, state.Cs.Value.Base);
        Assert.IsFalse(state.Fpu.Valid);
        Assert.AreEqual(0u, state.ExitReason);
    }

    [TestMethod]
    public void ClearHasTheEffectOfAssigningADefaultState()
    {
        var state = new VmState { ExitReason = VmExitReason.Recall };
        state.QualSecondary.SetValue(0xffff_fff0);
        state.Fpu.Value(_ => { });
        state.Clear();
        Assert.IsFalse(state.QualSecondary.Valid);
        Assert.AreEqual(0xffff_fff0UL, state.QualSecondary.Value);
        Assert.IsFalse(state.Fpu.Valid);
        Assert.AreEqual(0u, state.ExitReason);
    }

    [TestMethod]
    public void AssignmentCopiesTheExitReasonAndValidRegistersButInvalidatesTheFpu()
    {
        var source = new VmState { ExitReason = VmExitReason.IntelEpt };
        source.QualSecondary.SetValue(0xffff_fff0);
        source.Fpu.Value(_ => { });
        var target = new VmState();
        target.Fpu.Value(_ => { });
        target.Assign(source);
        Assert.AreEqual(VmExitReason.IntelEpt, target.ExitReason);
        Assert.IsTrue(target.QualSecondary.Valid);
        Assert.AreEqual(0xffff_fff0UL, target.QualSecondary.Value);
        Assert.IsFalse(target.Fpu.Valid);
    }

    [TestMethod]
    public void TheFpuIsA512ByteFxsaveImageAligned16ThatValueMarksValid()
    {
        var state = new VmState();
        int length = 0;
        state.Fpu.Value(b =>
        {
            length = b.Length;
            b[511] = 0xaa;
        });
        Assert.AreEqual(512, length);
        Assert.IsTrue(state.Fpu.Valid);
        Assert.AreEqual(0xaa, state.Fpu.Bytes[511]);
        unsafe
        {
            fixed (byte* p = state.Fpu.Bytes)
                Assert.AreEqual(0UL, (ulong)p % 16);
        }
    }

    [TestMethod]
    public void RangeIsBaseThenLimit()
    {
        var range = new VmState.Range(0, 0xffff);
        Assert.AreEqual(0UL, range.Base);
        Assert.AreEqual(0xffffu, range.Limit);
    }

    [TestMethod]
    public void FieldsFollowTheDeclarationOrderOfVmStateH()
    {
        string[] expected =
        [
            "Ax", "Cx", "Dx", "Bx", "Bp", "Si", "Di", "Sp", "Ip", "IpLen", "Flags",
            "Es", "Ds", "Fs", "Gs", "Cs", "Ss", "Tr", "Ldtr", "Gdtr", "Idtr",
            "Cr0", "Cr2", "Cr3", "Cr4", "Dr7", "SysenterIp", "SysenterSp", "SysenterCs",
            "QualPrimary", "QualSecondary", "CtrlPrimary", "CtrlSecondary", "InjInfo", "InjError",
            "IntrState", "ActvState", "Tsc", "TscOffset", "Efer", "Pdpte0", "Pdpte1", "Pdpte2", "Pdpte3",
            "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
            "Star", "Lstar", "Fmask", "KernelGsBase", "Tpr", "TprThreshold", "ExitReason", "Fpu",
        ];
        CollectionAssert.AreEqual(expected, StateFields.InDeclarationOrder(typeof(VmState)));
    }
}
