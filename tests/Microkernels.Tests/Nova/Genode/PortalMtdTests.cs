using Sim.Microkernels.Nova;
using Sim.Microkernels.Nova.Genode;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Tests.Nova.Genode;

/// <summary>
/// Portal MTDs: Genode's <c>Mtd::ALL</c> (syscall-generic.h), the fixed MTD of current vm.cc <c>_portal_mtd</c>, and the
/// 2019 vm_session.cc <c>portal_mtd</c> over the exit configuration of the vmm_x86 test (ip on every exit, the
/// qualification as well on EPT 0x30, NPT 0xfc and #PF 0x4e).
/// </summary>
[TestClass]
public sealed class PortalMtdTests
{
    private sealed class NoEntrypoint : IEntrypoint
    {
        public string Name => "none";
        public int Cpu => 0;
        public SignalContextCapability Manage(SignalDispatcherBase dispatcher) => throw new NotSupportedException();
        public void Dissolve(SignalDispatcherBase dispatcher) => throw new NotSupportedException();
        public void Submit(SignalContextCapability context, uint count) => throw new NotSupportedException();
    }

    private sealed class ConfigHandler(Action<VmState, uint>? config) : VmHandlerBase(new NoEntrypoint())
    {
        public override void Dispatch(uint count) { }

        public override bool ConfigVmEvent(VmState state, uint exit)
        {
            if (config is null) return false;
            config(state, exit);
            return true;
        }
    }

    private static void VmmX86ExitConfig(VmState state, uint exit)
    {
        state.Ip.SetValue(0);
        if (exit is 0x30 or 0xfc or 0x4e)
        {
            state.QualPrimary.SetValue(0);
            state.QualSecondary.SetValue(0);
        }
    }

    [TestMethod]
    public void All_IsGenodesMtdAll() => Assert.AreEqual(0x01DE_FFFFu, (uint)NovaStateTranslation.All);

    [TestMethod]
    public void CurrentPortalMtd_IsBits0To26AndFpu() => Assert.AreEqual(0x87FF_FFFFu, (uint)NovaStateTranslation.CurrentPortalMtd);

    [TestMethod]
    public void VmmX86Config_YieldsEip_OrEipAndQualForMemoryFaults()
    {
        var handler = new ConfigHandler(VmmX86ExitConfig);
        var state = new VmState();
        for (var exit = 0u; exit < 256; exit++)
        {
            var expected = exit is 0x30 or 0xfc or 0x4e ? 0x8008u : 0x8u;
            Assert.AreEqual(expected, (uint)NovaStateTranslation.PortalMtd(state, exit, handler), $"exit 0x{exit:x}");
            Assert.IsFalse(state.Ip.Valid || state.QualPrimary.Valid || state.QualSecondary.Valid);
        }
    }

    [TestMethod]
    public void NoCallback_YieldsAll()
    {
        var handler = new ConfigHandler(null);
        var state = new VmState();
        for (var exit = 0u; exit < 256; exit++)
            Assert.AreEqual(0x01DE_FFFFu, (uint)NovaStateTranslation.PortalMtd(state, exit, handler));
    }

    [TestMethod]
    public void CallbackTouchingNothing_YieldsZero()
    {
        var handler = new ConfigHandler(static (_, _) => { });
        Assert.AreEqual(0u, (uint)NovaStateTranslation.PortalMtd(new VmState(), 0x0c, handler));
    }

    [TestMethod]
    public void EachTouchedRegister_YieldsItsGroup_AndTheFpuYieldsFpu()
    {
        var registers = StateRegisters.Vm2019;
        for (var i = 0; i < registers.Length; i++)
        {
            var state = new VmState();
            registers[i].Set(state, 0);
            Assert.AreEqual(registers[i].Triggers ? registers[i].Group : Mtd.None, NovaStateTranslation.PortalMtd(state), registers[i].Name);
            Assert.IsFalse(registers[i].IsSet(state));
        }
        var fpu = new VmState();
        fpu.Fpu.Value(static _ => { });
        Assert.AreEqual(Mtd.Fpu, NovaStateTranslation.PortalMtd(fpu));
    }
}
