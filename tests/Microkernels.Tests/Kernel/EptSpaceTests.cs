using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Virtualization;
using Sim.Microkernels.Kernel;
using Sim.Vmx.Ept;

namespace Sim.Microkernels.Tests.Kernel;

/// <summary>EPT built from mappings, checked by walking it with the unit's own EPT translator (SDM vol. 3, 29.3).</summary>
[TestClass]
public sealed class EptSpaceTests
{
    private const ulong KernelWindow = 0x1000000, KernelWindowSize = 0x100000;
    private const ulong QualificationRead = 1, QualificationWrite = 2, QualificationFetch = 4;
    private const ulong QualificationReadable = 8, QualificationWritable = 16, QualificationExecutable = 32;

    private PhysicalMemory _memory = null!;
    private Processor _cpu = null!;
    private KernelMemory _kernelMemory = null!;
    private EptSpace _space = null!;
    private EptTranslator _ept = null!;

    [TestInitialize]
    public void Start()
    {
        _memory = new PhysicalMemory(32 << 20);
        _cpu = new Processor(_memory, new TestBus());
        _kernelMemory = new KernelMemory(_memory, KernelWindow, KernelWindowSize);
        _space = new EptSpace(_kernelMemory);
        _ept = new EptTranslator(_memory) { Eptp = _space.Root };
    }

    [TestCleanup]
    public void Stop()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }

    private bool Translate(ulong gpa, GuestPhysicalAccess access, out ulong hpa) =>
        _ept.Translate(_cpu, gpa, access | GuestPhysicalAccess.LinearValid, gpa, out hpa);

    /// <summary>The entry at <paramref name="level"/> (4 = PML4E) that the walk of <paramref name="gpa"/> uses.</summary>
    private ulong Entry(ulong gpa, int level)
    {
        var table = _space.Root & ~0xFFFUL;
        for (var l = 4; ; l--)
        {
            var entry = _memory.Read(table + (((gpa >> (12 + 9 * (l - 1))) & 0x1FF) << 3), 8);
            if (l == level) return entry;
            table = entry & 0xF_FFFF_FFFF_F000UL;
        }
    }

    [TestMethod]
    public void TheEptpIsWriteBackWithAFourLevelWalk()
    {
        Assert.AreEqual((ulong)EptMemoryType.WriteBack, _space.Root & 7, "bits 2:0: memory type of the paging structures");
        Assert.AreEqual(3UL, (_space.Root >> 3) & 7, "bits 5:3: walk length minus one");
        Assert.AreEqual(0UL, _space.Root & 0x40, "no accessed and dirty flags");
        Assert.IsTrue(EptTranslator.IsValidEptp(_space.Root));
        Assert.IsTrue(_space.Root >= KernelWindow && _space.Root < KernelWindow + KernelWindowSize, "the PML4 comes from kernel memory");
    }

    [TestMethod]
    public void EveryPageOfAMappedRangeTranslatesWithItsRights()
    {
        _space.Map(0x100000, 0x300000, 3 * 0x1000, GuestPageRights.Read | GuestPageRights.Execute);
        for (ulong page = 0; page < 3; page++)
        {
            Assert.IsTrue(Translate(0x100000 + page * 0x1000 + 0x123, GuestPhysicalAccess.Read, out var hpa));
            Assert.AreEqual(0x300000 + page * 0x1000 + 0x123, hpa);
            Assert.AreEqual(EptMemoryType.WriteBack, _ept.MemoryType, "leaves carry memory type WB");
            Assert.IsTrue(Translate(0x100000 + page * 0x1000, GuestPhysicalAccess.Fetch, out _));
        }
        Assert.IsFalse(Translate(0x101000, GuestPhysicalAccess.Write, out _));
        Assert.IsFalse(_ept.LastFault.Misconfiguration);
        Assert.AreEqual(QualificationWrite | QualificationReadable | QualificationExecutable, _ept.LastFault.ExitQualification & 0x3F,
            "a write to a read/execute page: the access and the page's rights (table 28-7)");
        Assert.IsFalse(Translate(0x103000, GuestPhysicalAccess.Read, out _), "the page after the range is not mapped");
        Assert.AreEqual(QualificationRead, _ept.LastFault.ExitQualification & 0x3F, "not present: no rights");
        Assert.IsFalse(Translate(0xFF000, GuestPhysicalAccess.Read, out _), "nor the page before it");
    }

    [TestMethod]
    public void EachRightIsItsOwnBit()
    {
        _space.Map(0x0, 0x400000, 0x1000, GuestPageRights.Read | GuestPageRights.Write);
        _space.Map(0x1000, 0x401000, 0x1000, GuestPageRights.Execute);
        Assert.IsTrue(Translate(0x0, GuestPhysicalAccess.Write, out _));
        Assert.IsFalse(Translate(0x0, GuestPhysicalAccess.Fetch, out _));
        Assert.AreEqual(QualificationFetch | QualificationReadable | QualificationWritable, _ept.LastFault.ExitQualification & 0x3F);
        Assert.IsTrue(Translate(0x1000, GuestPhysicalAccess.Fetch, out var hpa), "execute-only pages are supported");
        Assert.AreEqual(0x401000UL, hpa);
        Assert.IsFalse(Translate(0x1000, GuestPhysicalAccess.Read, out _));
        Assert.AreEqual(QualificationRead | QualificationExecutable, _ept.LastFault.ExitQualification & 0x3F);
    }

    [TestMethod]
    public void AnAlignedTwoMegabyteRangeOfContiguousMemoryIsOneLeaf()
    {
        _space.Map(0x200000, 0x600000, 0x200000, GuestPageRights.All);
        var pde = Entry(0x200000, 2);
        Assert.AreNotEqual(0UL, pde & 0x80, "bit 7: the PDE maps a 2 MiB page");
        Assert.AreEqual(0x600000UL, pde & 0xF_FFFF_FFE0_0000UL);
        Assert.AreEqual((ulong)EptMemoryType.WriteBack, (pde >> 3) & 7);
        Assert.AreEqual(3, _space.TablePages, "PML4, PDPT and PD; no page table");
        Assert.IsTrue(Translate(0x3FFFF8, GuestPhysicalAccess.Write, out var hpa));
        Assert.AreEqual(0x7FFFF8UL, hpa);
        Assert.IsFalse(Translate(0x400000, GuestPhysicalAccess.Read, out _));
    }

    [TestMethod]
    public void MisalignedHostMemoryGetsFourKilobyteLeaves()
    {
        _space.Map(0x200000, 0x601000, 0x200000, GuestPageRights.All);
        Assert.AreEqual(0UL, Entry(0x200000, 2) & 0x80);
        Assert.AreEqual(4, _space.TablePages);
        for (ulong offset = 0; offset < 0x200000; offset += 0x1000)
        {
            Assert.IsTrue(Translate(0x200000 + offset, GuestPhysicalAccess.Read, out var hpa));
            Assert.AreEqual(0x601000 + offset, hpa);
        }
    }

    [TestMethod]
    public void UnmappingInsideALargeLeafSplitsIt()
    {
        _space.Map(0x200000, 0x600000, 0x200000, GuestPageRights.Read | GuestPageRights.Write);
        _space.Unmap(0x205000, 0x1000);
        Assert.AreEqual(0UL, Entry(0x200000, 2) & 0x80, "the PDE now references a page table");
        Assert.IsFalse(Translate(0x205000, GuestPhysicalAccess.Read, out _));
        Assert.AreEqual(QualificationRead, _ept.LastFault.ExitQualification & 0x3F);
        foreach (var offset in new ulong[] { 0, 0x4000, 0x6000, 0x1FF000 })
        {
            Assert.IsTrue(Translate(0x200000 + offset, GuestPhysicalAccess.Write, out var hpa));
            Assert.AreEqual(0x600000 + offset, hpa, "the other 511 pages keep their frames");
            Assert.IsFalse(Translate(0x200000 + offset, GuestPhysicalAccess.Fetch, out _), "and their rights");
        }
    }

    [TestMethod]
    public void MappingOneDifferentPageInsideALargeLeafSplitsIt()
    {
        _space.Map(0x200000, 0x600000, 0x200000, GuestPageRights.Read);
        _space.Map(0x3FF000, 0x900000, 0x1000, GuestPageRights.All);
        Assert.IsTrue(Translate(0x3FF000, GuestPhysicalAccess.Write, out var hpa));
        Assert.AreEqual(0x900000UL, hpa);
        Assert.IsTrue(Translate(0x3FE000, GuestPhysicalAccess.Read, out hpa));
        Assert.AreEqual(0x7FE000UL, hpa);
        Assert.IsFalse(Translate(0x3FE000, GuestPhysicalAccess.Write, out _));
    }

    [TestMethod]
    public void RemappingALargeRangeOverSmallPagesFreesTheirTable()
    {
        _space.Map(0x200000, 0x601000, 0x200000, GuestPageRights.All);
        var used = _kernelMemory.PagesInUse;
        _space.Map(0x200000, 0x800000, 0x200000, GuestPageRights.Read);
        Assert.AreEqual(used - 1, _kernelMemory.PagesInUse);
        Assert.IsTrue(Translate(0x234000, GuestPhysicalAccess.Read, out var hpa));
        Assert.AreEqual(0x834000UL, hpa);
        Assert.IsFalse(Translate(0x234000, GuestPhysicalAccess.Write, out _), "the new rights replace the old");
    }

    [TestMethod]
    public void UnmappingEverythingGivesTheTablesBack()
    {
        _space.Map(0x7F_0000_0000, 0x600000, 0x3000, GuestPageRights.All);
        _space.Map(0x200000, 0x600000, 0x400000, GuestPageRights.All);
        Assert.IsTrue(_kernelMemory.PagesInUse > 1);
        _space.Unmap(0x201000, 0x1000);
        _space.Unmap(0x0, 0x80_0000_0000);
        Assert.AreEqual(1UL, _kernelMemory.PagesInUse, "only the PML4 is left");
        Assert.AreEqual(1, _space.TablePages);
        Assert.IsFalse(Translate(0x7F_0000_1000, GuestPhysicalAccess.Read, out _));
        Assert.IsFalse(Translate(0x300000, GuestPhysicalAccess.Read, out _));
    }

    [TestMethod]
    public void LookupReportsTheMapping()
    {
        _space.Map(0x200000, 0x600000, 0x200000, GuestPageRights.Read | GuestPageRights.Execute);
        _space.Map(0x10000, 0x500000, 0x1000, GuestPageRights.Read);
        Assert.AreEqual((0x612345UL, GuestPageRights.Read | GuestPageRights.Execute), _space.Lookup(0x212345));
        Assert.AreEqual((0x500FFFUL, GuestPageRights.Read), _space.Lookup(0x10FFF));
        Assert.IsNull(_space.Lookup(0x11000));
        Assert.IsNull(_space.Lookup(1UL << 50));
    }

    [TestMethod]
    public void BadRangesAndRightsAreRefused()
    {
        Assert.ThrowsExactly<ArgumentException>(() => _space.Map(0x800, 0x1000, 0x1000, GuestPageRights.All));
        Assert.ThrowsExactly<ArgumentException>(() => _space.Map(0x1000, 0x1800, 0x1000, GuestPageRights.All));
        Assert.ThrowsExactly<ArgumentException>(() => _space.Map(0x1000, 0x1000, 0, GuestPageRights.All));
        Assert.ThrowsExactly<ArgumentException>(() => _space.Map(1UL << 48, 0x1000, 0x1000, GuestPageRights.All));
        Assert.ThrowsExactly<ArgumentException>(() => _space.Map(0x1000, 0x1000, 0x1000, GuestPageRights.None));
        Assert.ThrowsExactly<ArgumentException>(() => _space.Map(0x1000, 0x1000, 0x1000, GuestPageRights.Write), "write without read is a misconfiguration");
        Assert.ThrowsExactly<ArgumentException>(() => _space.Unmap(0x1000, 0x800));
        Assert.AreEqual(1UL, _kernelMemory.PagesInUse, "nothing was built");
    }

    [TestMethod]
    public void ExhaustedKernelMemoryIsReported()
    {
        using var memory = new PhysicalMemory(4 << 20);
        var space = new EptSpace(new KernelMemory(memory, 0x100000, 0x4000));
        space.Map(0x0, 0x200000, 0x1000, GuestPageRights.All);
        Assert.ThrowsExactly<KernelMemoryExhaustedException>(() => space.Map(0x4000_0000, 0x200000, 0x1000, GuestPageRights.All), "a new PD and PT do not fit");
    }
}
