using Sim.Microkernels.Nova;
using Sim.Microkernels.Nova.Genode;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Tests.Nova.Genode;

/// <summary>The translations run on every VM exit and reply, so they must not allocate.</summary>
[TestClass]
public sealed class TranslationAllocationTests
{
    [TestMethod]
    public void ReadAndWrite_WithEveryGroupAndTheFpu_DoNotAllocate()
    {
        using var u = new UtcbImage();
        var vm = new VmState();
        var vcpu = new VcpuState();
        const Mtd everything = NovaStateTranslation.CurrentPortalMtd;

        void Round()
        {
            u.SetWord(0x20, (ulong)everything);
            NovaStateTranslation.Read(u.Memory, UtcbImage.Address, vm, 0x30);
            NovaStateTranslation.Write(u.Memory, UtcbImage.Address, vm);
            u.SetWord(0x20, (ulong)everything);
            NovaStateTranslation.Read(u.Memory, UtcbImage.Address, vcpu);
            NovaStateTranslation.Write(u.Memory, UtcbImage.Address, vcpu);
        }

        Round();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) Round();
        Assert.AreEqual(0L, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.IsTrue(vm.Fpu.Valid && vcpu.Fpu.Charged);
    }
}
