using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;
using Sim.Microkernels.Kernel;
using Sim.Svm.Npt;

namespace Sim.Microkernels.Tests.Kernel;

/// <summary>Nested page tables built from mappings, checked with the unit's nested walker (APM vol. 2, 15.25).</summary>
[TestClass]
public sealed class NptSpaceTests
{
    private const ulong KernelWindow = 0x1000000, KernelWindowSize = 0x100000;
    private const ulong ErrorPresent = 1, ErrorWrite = 2, ErrorUser = 4, ErrorFetch = 16;

    private PhysicalMemory _memory = null!;
    private Processor _cpu = null!;
    private KernelMemory _kernelMemory = null!;
    private NptSpace _space = null!;
    private NestedPageTranslator _npt = null!;

    [TestInitialize]
    public void Start()
    {
        _memory = new PhysicalMemory(32 << 20);
        _cpu = new Processor(_memory, new TestBus());
        _kernelMemory = new KernelMemory(_memory, KernelWindow, KernelWindowSize);
        _space = new NptSpace(_kernelMemory);
        _npt = new NestedPageTranslator(_memory) { NCr3 = _space.Root };
        _npt.SetHostPagingMode(HostEnvironment.HostCr0, Cr4.PAE, Efer.LME | Efer.LMA | Efer.NXE);
    }

    [TestCleanup]
    public void Stop()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }

    private bool Translate(ulong gpa, GuestPhysicalAccess access, out ulong hpa) =>
        _npt.Translate(_cpu, gpa, access | GuestPhysicalAccess.LinearValid, gpa, out hpa);

    private ulong Entry(ulong gpa, int level)
    {
        var table = _space.Root;
        for (var l = 4; ; l--)
        {
            var entry = _memory.Read(table + (((gpa >> (12 + 9 * (l - 1))) & 0x1FF) << 3), 8);
            if (l == level) return entry;
            table = entry & 0xF_FFFF_FFFF_F000UL;
        }
    }

    [TestMethod]
    public void TheRootIsTheNestedCr3OfALongModeTable()
    {
        Assert.AreEqual(0UL, _space.Root & 0xFFF);
        Assert.IsTrue(_space.Root >= KernelWindow && _space.Root < KernelWindow + KernelWindowSize);
        Assert.AreEqual(NestedPagingMode.LongMode, _npt.Mode);
    }

    [TestMethod]
    public void EveryLevelIsAUserEntry()
    {
        _space.Map(0x100000, 0x300000, 0x1000, GuestPageRights.Read);
        for (var level = 4; level >= 1; level--)
            Assert.AreEqual(ErrorPresent | ErrorUser, Entry(0x100000, level) & 5, $"P and U/S at level {level}: nested accesses are user accesses");
        Assert.AreEqual(0UL, Entry(0x100000, 1) & 2, "read-only leaf");
    }

    [TestMethod]
    public void RightsBecomeReadWriteAndNoExecute()
    {
        _space.Map(0x100000, 0x300000, 0x2000, GuestPageRights.Read);
        _space.Map(0x102000, 0x400000, 0x1000, GuestPageRights.Read | GuestPageRights.Write);
        _space.Map(0x103000, 0x500000, 0x1000, GuestPageRights.Read | GuestPageRights.Execute);
        Assert.IsTrue(Translate(0x101234, GuestPhysicalAccess.Read, out var hpa));
        Assert.AreEqual(0x301234UL, hpa);
        Assert.IsFalse(Translate(0x101234, GuestPhysicalAccess.Write, out _));
        Assert.AreEqual(ErrorPresent | ErrorWrite | ErrorUser | NestedPageTranslator.FinalAddressFault, _npt.LastFault.ExitInfo1);
        Assert.AreEqual(0x101234UL, _npt.LastFault.ExitInfo2);
        Assert.IsFalse(Translate(0x101000, GuestPhysicalAccess.Fetch, out _), "not executable: NX, honoured with EFER.NXE");
        Assert.AreEqual(ErrorPresent | ErrorUser | ErrorFetch | NestedPageTranslator.FinalAddressFault, _npt.LastFault.ExitInfo1);
        Assert.IsTrue(Translate(0x102000, GuestPhysicalAccess.Write, out hpa));
        Assert.AreEqual(0x400000UL, hpa);
        Assert.IsFalse(Translate(0x102000, GuestPhysicalAccess.Fetch, out _));
        Assert.IsTrue(Translate(0x103000, GuestPhysicalAccess.Fetch, out hpa));
        Assert.AreEqual(0x500000UL, hpa);
        Assert.IsFalse(Translate(0x104000, GuestPhysicalAccess.Read, out _));
        Assert.AreEqual(ErrorUser | NestedPageTranslator.FinalAddressFault, _npt.LastFault.ExitInfo1, "not present");
    }

    [TestMethod]
    public void AnAlignedTwoMegabyteRangeOfContiguousMemoryIsOneLeaf()
    {
        _space.Map(0x200000, 0x600000, 0x200000, GuestPageRights.All);
        var pde = Entry(0x200000, 2);
        Assert.AreNotEqual(0UL, pde & 0x80, "PS: a 2 MiB page");
        Assert.AreEqual(0x600000UL, pde & 0xF_FFFF_FFE0_0000UL);
        Assert.AreEqual(3, _space.TablePages);
        Assert.IsTrue(Translate(0x3FFFF8, GuestPhysicalAccess.Write, out var hpa));
        Assert.AreEqual(0x7FFFF8UL, hpa);
        Assert.IsTrue(Translate(0x200000, GuestPhysicalAccess.Fetch, out _));
    }

    [TestMethod]
    public void UnmappingInsideALargeLeafSplitsIt()
    {
        _space.Map(0x200000, 0x600000, 0x200000, GuestPageRights.Read | GuestPageRights.Write);
        _space.Unmap(0x3FF000, 0x1000);
        Assert.AreEqual(0UL, Entry(0x200000, 2) & 0x80);
        Assert.IsFalse(Translate(0x3FF000, GuestPhysicalAccess.Read, out _));
        foreach (var offset in new ulong[] { 0, 0x1000, 0x1FE000 })
        {
            Assert.IsTrue(Translate(0x200000 + offset, GuestPhysicalAccess.Write, out var hpa));
            Assert.AreEqual(0x600000 + offset, hpa);
            Assert.IsFalse(Translate(0x200000 + offset, GuestPhysicalAccess.Fetch, out _));
        }
    }

    [TestMethod]
    public void UnmappingEverythingGivesTheTablesBack()
    {
        _space.Map(0x0, 0x600000, 0x600000, GuestPageRights.All);
        _space.Map(0x1_0000_0000, 0x600000, 0x1000, GuestPageRights.Read);
        _space.Unmap(0x0, 0x1_0000_1000);
        Assert.AreEqual(1UL, _kernelMemory.PagesInUse);
        Assert.IsFalse(Translate(0x1_0000_0000, GuestPhysicalAccess.Read, out _));
    }

    [TestMethod]
    public void PagesThatCannotBeReadAreRefused()
    {
        Assert.ThrowsExactly<ArgumentException>(() => _space.Map(0x1000, 0x1000, 0x1000, GuestPageRights.Execute));
        Assert.ThrowsExactly<ArgumentException>(() => _space.Map(0x1000, 0x1000, 0x1000, GuestPageRights.None));
        _space.Map(0x1000, 0x1000, 0x1000, GuestPageRights.Read);
        Assert.AreEqual((0x1000UL, GuestPageRights.Read), _space.Lookup(0x1000));
    }
}
