using Sim.Vmm.Genode;
using Sim.Vmm.Tests.TestDoubles;

namespace Sim.Vmm.Tests;

/// <summary>The core's attach/detach rules (ABI notes §1.2; Genode 19.05 <c>vm_session_common.cc</c>).</summary>
[TestClass]
public sealed class GuestRegionMapTests
{
    private static FakeRamDataspace Ds(ulong cap, ulong size, bool writeable = true, bool managed = false) =>
        new(cap, size, writeable, managed);

    private static AttachResult Attach(GuestRegionMap map, IRamDataspace? ds, ulong gp, AttachAttr attr) =>
        map.Attach(ds, gp, attr, out _);

    [TestMethod]
    public void AMissingOrInvalidDataspaceIsInvalid()
    {
        var map = new GuestRegionMap();
        Assert.AreEqual(AttachResult.InvalidDataspace, Attach(map, null, 0, AttachAttr.Default));
        var freed = Ds(1, 0x1000);
        freed.Cap = DataspaceCapability.Invalid;
        Assert.AreEqual(AttachResult.InvalidDataspace, Attach(map, freed, 0, AttachAttr.Default));
    }

    [TestMethod]
    public void AManagedDataspaceIsRefused()
    {
        var map = new GuestRegionMap();
        Assert.AreEqual(AttachResult.InvalidDataspace, Attach(map, Ds(1, 0x1000, managed: true), 0, AttachAttr.Default));
    }

    [TestMethod]
    [DataRow(0x800UL, 0UL, 0UL)]
    [DataRow(0x1000UL, 0x10UL, 0UL)]
    [DataRow(0x1000UL, 0UL, 0x1001UL)]
    public void AddressOffsetAndSizeMustBePageAligned(ulong gp, ulong offset, ulong size)
    {
        var map = new GuestRegionMap();
        Assert.AreEqual(AttachResult.InvalidDataspace, Attach(map, Ds(1, 0x4000), gp, new AttachAttr(offset, size, true, true)));
        Assert.AreEqual(0, map.Regions.Count);
    }

    [TestMethod]
    public void SizeZeroMeansTheDataspaceFromTheOffset()
    {
        var map = new GuestRegionMap();
        Assert.AreEqual(AttachResult.Ok, map.Attach(Ds(1, 0x4000), 0x10000, new AttachAttr(0x1000, 0, true, true), out var eff));
        Assert.AreEqual(0x3000UL, eff.Size);
        Assert.AreEqual(0x1000UL, eff.Offset);
        Assert.AreEqual(0x3000UL, map.Regions.Single().Size);
    }

    [TestMethod]
    public void ASizeBeyondTheDataspaceIsClamped()
    {
        var map = new GuestRegionMap();
        Assert.AreEqual(AttachResult.Ok, map.Attach(Ds(1, 0x2000), 0, new AttachAttr(0, 0x8000, true, true), out var eff));
        Assert.AreEqual(0x2000UL, eff.Size);
    }

    [TestMethod]
    public void AnOffsetAtOrBeyondTheEndIsInvalid()
    {
        var map = new GuestRegionMap();
        Assert.AreEqual(AttachResult.InvalidDataspace, Attach(map, Ds(1, 0x2000), 0, new AttachAttr(0x2000, 0, true, true)));
        Assert.AreEqual(AttachResult.InvalidDataspace, Attach(map, Ds(1, 0x2000), 0, new AttachAttr(0x3000, 0x1000, true, true)));
    }

    [TestMethod]
    public void OffsetPlusClampedSizeBeyondTheEndIsInvalid()
    {
        var map = new GuestRegionMap();
        // size clamps to 0x3000, and 0x1000 + 0x3000 exceeds the dataspace
        Assert.AreEqual(AttachResult.InvalidDataspace, Attach(map, Ds(1, 0x3000), 0, new AttachAttr(0x1000, 0x4000, true, true)));
        Assert.AreEqual(AttachResult.InvalidDataspace, Attach(map, Ds(1, 0x3000), 0, new AttachAttr(0x1000, 0x3000, true, true)));
    }

    [TestMethod]
    public void WriteableNeedsTheDataspaceAndTheRequest()
    {
        var map = new GuestRegionMap();
        map.Attach(Ds(1, 0x1000, writeable: false), 0, AttachAttr.Default, out var readOnly);
        Assert.IsFalse(readOnly.Writeable);
        map.Attach(Ds(2, 0x1000), 0x1000, new AttachAttr(0, 0, false, false), out var requested);
        Assert.IsFalse(requested.Writeable);
        Assert.IsFalse(requested.Executable);
        map.Attach(Ds(3, 0x1000), 0x2000, AttachAttr.Default, out var both);
        Assert.IsTrue(both.Writeable);
    }

    [TestMethod]
    public void AnOverlapWithAnotherDataspaceConflicts()
    {
        var map = new GuestRegionMap();
        Assert.AreEqual(AttachResult.Ok, Attach(map, Ds(1, 0x2000), 0x1000, AttachAttr.Default));
        Assert.AreEqual(AttachResult.RegionConflict, Attach(map, Ds(2, 0x1000), 0x2000, AttachAttr.Default));
        Assert.AreEqual(AttachResult.RegionConflict, Attach(map, Ds(2, 0x2000), 0x0, AttachAttr.Default));
        Assert.AreEqual(1, map.Regions.Count);
    }

    [TestMethod]
    public void ReattachingTheSameDataspaceInsideItsRegionSucceedsWithoutNewBookkeeping()
    {
        var map = new GuestRegionMap();
        var ds = Ds(1, 0x2000);
        Assert.AreEqual(AttachResult.Ok, Attach(map, ds, 0x1000, AttachAttr.Default));
        Assert.AreEqual(AttachResult.Ok, map.Attach(ds, 0x2000, new AttachAttr(0x1000, 0x1000, true, true), out var eff));
        Assert.AreEqual(0x1000UL, eff.Size);
        Assert.AreEqual(AttachResult.Ok, Attach(map, ds, 0x1000, AttachAttr.Default));
        Assert.AreEqual(1, map.Regions.Count);
    }

    [TestMethod]
    public void TheSameDataspaceStartingOutsideItsRegionConflicts()
    {
        var map = new GuestRegionMap();
        var ds = Ds(1, 0x2000);
        Attach(map, ds, 0x2000, AttachAttr.Default);
        Assert.AreEqual(AttachResult.RegionConflict, Attach(map, ds, 0x1000, AttachAttr.Default));
    }

    [TestMethod]
    public void TheLastPageIsManagedButNoRegionCrossesIntoIt()
    {
        var map = new GuestRegionMap();
        Assert.AreEqual(AttachResult.Ok, Attach(map, Ds(1, 0x1000), 0xffff_ffff_ffff_f000, AttachAttr.Default));
        Assert.AreEqual(AttachResult.Ok, Attach(map, Ds(2, 0x1000), 0xffff_ffff_ffff_e000, AttachAttr.Default));
        var map2 = new GuestRegionMap();
        Assert.AreEqual(AttachResult.RegionConflict, Attach(map2, Ds(3, 0x2000), 0xffff_ffff_ffff_e000, AttachAttr.Default));
    }

    [TestMethod]
    public void TheTestsGuestPageAttachesBelow4GiB()
    {
        var map = new GuestRegionMap();
        Assert.AreEqual(AttachResult.Ok, Attach(map, Ds(1, 0x1000), 0xffff_f000, AttachAttr.Default));
        Assert.IsNotNull(map.Find(0xffff_fff0));
        Assert.IsNull(map.Find(0x1_0000_0000));
    }

    [TestMethod]
    public void DetachAlignsAnUnalignedStartDownAndGrowsTheSizeByThePagesRemainder()
    {
        var map = new GuestRegionMap();
        ulong gp = 0x1800, size = 0x100;
        Assert.IsTrue(map.Detach(ref gp, ref size));
        Assert.AreEqual((0x1000UL, 0x1000UL), (gp, size));

        gp = 0x1100;
        size = 0x1000;
        Assert.IsTrue(map.Detach(ref gp, ref size));
        Assert.AreEqual((0x1000UL, 0x2000UL), (gp, size));
    }

    [TestMethod]
    public void DetachOfNothingDoesNothing()
    {
        var map = new GuestRegionMap();
        ulong gp = 0x1000, size = 0;
        Assert.IsFalse(map.Detach(ref gp, ref size));
    }

    [TestMethod]
    public void DetachDropsARegionOnlyWhenItStartsThereAndFits()
    {
        var map = new GuestRegionMap();
        Attach(map, Ds(1, 0x2000), 0x1000, AttachAttr.Default);

        ulong gp = 0x1000, size = 0x1000;
        map.Detach(ref gp, ref size);
        Assert.AreEqual(1, map.Regions.Count);

        gp = 0x2000;
        size = 0x2000;
        map.Detach(ref gp, ref size);
        Assert.AreEqual(1, map.Regions.Count);

        gp = 0x1000;
        size = 0x2000;
        map.Detach(ref gp, ref size);
        Assert.AreEqual(0, map.Regions.Count);
        Assert.AreEqual(AttachResult.Ok, Attach(map, Ds(2, 0x1000), 0x1000, AttachAttr.Default));
    }

    [TestMethod]
    public void TheSessionComponentCallsTheKernelHooksWithTheEffectiveAttributes()
    {
        var session = new FakeVmSession(new FakeMachine(), VirtualizationKind.Vmx);
        var ds = Ds(1, 0x1000);
        Assert.AreEqual(AttachResult.Ok, session.Attach(ds, 0xffff_f000, AttachAttr.Default));
        Assert.AreEqual((0xffff_f000UL, new AttachAttr(0, 0x1000, true, true)), session.Mapped.Single());

        Assert.AreEqual(AttachResult.RegionConflict, session.Attach(Ds(2, 0x1000), 0xffff_f000, AttachAttr.Default));
        Assert.AreEqual(1, session.Mapped.Count);

        Assert.AreEqual(AttachResult.Ok, session.Attach(ds, 0xffff_f000, AttachAttr.Default));
        Assert.AreEqual(2, session.Mapped.Count);

        session.Detach(0xffff_f800, 0x10);
        Assert.AreEqual((0xffff_f000UL, 0x1000UL), session.Unmapped.Single());
        session.Detach(0x5000, 0);
        Assert.AreEqual(1, session.Unmapped.Count);
    }
}
