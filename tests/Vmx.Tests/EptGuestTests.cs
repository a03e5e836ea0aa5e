using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;
using Sim.Vmx.Ept;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Vmx.Tests.EptQualification;

namespace Sim.Vmx.Tests;

/// <summary>
/// Guest programs on a bare processor with an <see cref="EptTranslator"/> as its second level: the
/// EPT starts empty and the recording unit maps each refused page (identity) on demand, so the
/// order of the faults shows which guest-physical accesses the processor makes and how (SDM vol. 3, 29.3.3.2, table 28-7).
/// </summary>
[TestClass]
public sealed class EptGuestTests
{
    private const ulong Code = 0x10000;
    private const ulong Pml4 = 0x100000, Pdpt = 0x101000, Pd = 0x102000;
    private const ulong UserData = 0x200000, Store = 0x6000;
    private const ulong XdBit = 1UL << 63;

    private sealed class Guest : IDisposable
    {
        public Guest(bool accessedDirty, Func<ulong, ulong> permissions)
        {
            Memory = new PhysicalMemory(16 << 20);
            Cpu = new Processor(Memory, new TestBus());
            Ept = new EptTables(Memory, 0x800000);
            Translator = new EptTranslator(Memory) { Eptp = Ept.Eptp(accessedDirty) };
            Hooks = new EptRecordingHooks(Translator, fault =>
            {
                Assert.IsFalse(fault.Misconfiguration);
                var page = fault.GuestPhysicalAddress & ~0xFFFUL;
                Ept.Map(page, page, permissions: permissions(page));
            });
            Cpu.Hooks = Hooks;
            Cpu.SecondLevel = Translator;
        }

        public PhysicalMemory Memory { get; }
        public Processor Cpu { get; }
        public EptTables Ept { get; }
        public EptTranslator Translator { get; }
        public EptRecordingHooks Hooks { get; }

        public void Load(int bitness, Action<Assembler> build) => Memory.WriteBytes(Code, IcedAssembly.Assemble(bitness, Code, build));

        public ulong Leaf(ulong guestPhysical) => Ept[Ept.EntryAddress(guestPhysical, 1)];

        public void Dispose()
        {
            Cpu.Dispose();
            Memory.Dispose();
        }
    }

    /// <summary>64-bit mode: the first 2 MiB a supervisor read/write page, the next 2 MiB a user read-only execute-disable page (EFER.NXE set).</summary>
    private static Guest LongModeGuest(bool accessedDirty)
    {
        // The store page is first mapped read-only, then, on its second fault, read/write.
        var storeFaults = 0;
        var g = new Guest(accessedDirty, page => page == Store && storeFaults++ == 0 ? 1UL : EptTables.ReadWriteExecute);
        g.Load(64, a =>
        {
            a.mov(rax, __qword_ptr[UserData]);
            a.mov(__qword_ptr[Store], rax);
            a.hlt();
        });
        g.Memory.Write(UserData, 8, 0x1122334455667788);
        g.Memory.Write(Pml4, 8, Pdpt | 7);
        g.Memory.Write(Pdpt, 8, Pd | 7);
        g.Memory.Write(Pd, 8, 0x83);
        g.Memory.Write(Pd + 8, 8, UserData | 0x85 | XdBit);
        g.Memory.Write(0x1000, 8, 0);
        g.Memory.Write(0x1008, 8, 0x00AF9B000000FFFFUL);
        g.Memory.Write(0x1010, 8, 0x00CF93000000FFFFUL);
        g.Cpu.Gdtr = new DescriptorTableRegister { Base = 0x1000, Limit = 0x17 };
        g.Cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, Pml4, Cr4.PAE, Efer.LME | Efer.LMA | Efer.NXE);
        g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            g.Cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        g.Cpu.Rip = Code;
        return g;
    }

    private static void AssertFaults(Guest g, params (ulong Gpa, ulong Qualification, ulong? Linear)[] expected)
    {
        var actual = g.Hooks.Faults;
        var text = string.Join("\n", actual.Select(f => $"gpa {f.Fault.GuestPhysicalAddress:x} q {f.Fault.ExitQualification:x} linear {(f.Fault.GuestLinearAddressValid ? f.Fault.GuestLinearAddress.ToString("x") : "-")} rip {f.Rip:x}"));
        Assert.AreEqual(expected.Length, actual.Count, text);
        for (var i = 0; i < expected.Length; i++)
        {
            var (fault, _) = actual[i];
            Assert.IsFalse(fault.Misconfiguration, text);
            Assert.AreEqual(expected[i].Gpa, fault.GuestPhysicalAddress, $"fault {i}\n{text}");
            Assert.AreEqual(expected[i].Qualification, fault.ExitQualification, $"fault {i}\n{text}");
            Assert.AreEqual(expected[i].Linear.HasValue, fault.GuestLinearAddressValid, $"fault {i}\n{text}");
            if (expected[i].Linear is { } linear) Assert.AreEqual(linear, fault.GuestLinearAddress, $"fault {i}\n{text}");
        }
    }

    [TestMethod]
    public void LongModeGuestFaultsOnPagingStructuresThenFetchThenDataInOrder()
    {
        using var g = LongModeGuest(accessedDirty: false);
        Assert.AreEqual(StopReason.Halted, g.Cpu.Run(1_000_000));
        Assert.AreEqual(0x1122334455667788UL, g.Memory.Read(Store, 8), "the store completed after the EPT was repaired");
        CollectionAssert.AreEqual(new[] { InterceptKind.Hlt }, g.Hooks.OtherIntercepts, "no exception reached the guest");
        const ulong walk = DataRead | LinearValid;
        AssertFaults(g,
            // The fetch's walk reads the guest PML4E, PDPTE and PDE: paging-structure reads (bit 8 clear).
            (Pml4, walk, Code), (Pdpt, walk, Code), (Pd, walk, Code),
            // The fetch itself: a supervisor, writable, executable linear translation.
            (Code, InstructionFetch | LinearValid | FinalTranslation | WritableLinear, Code),
            // The load from the user, read-only, execute-disable page.
            (UserData, DataRead | LinearValid | FinalTranslation | UserModeLinear | ExecuteDisableLinear, UserData),
            // The store: not present, then present read-only (bits 5:3 = 001b).
            (Store, DataWrite | LinearValid | FinalTranslation | WritableLinear, Store),
            (Store, DataWrite | Rights(1) | LinearValid | FinalTranslation | WritableLinear, Store));
    }

    [TestMethod]
    public void WithAccessedDirtyFlagsGuestPagingStructureAccessesAreWritesAndFlagsReachMemory()
    {
        using var g = LongModeGuest(accessedDirty: true);
        Assert.AreEqual(StopReason.Halted, g.Cpu.Run(1_000_000));
        const ulong walk = DataRead | DataWrite | LinearValid;
        AssertFaults(g,
            (Pml4, walk, Code), (Pdpt, walk, Code), (Pd, walk, Code),
            (Code, InstructionFetch | LinearValid | FinalTranslation | WritableLinear, Code),
            (UserData, DataRead | LinearValid | FinalTranslation | UserModeLinear | ExecuteDisableLinear, UserData),
            (Store, DataWrite | LinearValid | FinalTranslation | WritableLinear, Store),
            (Store, DataWrite | Rights(1) | LinearValid | FinalTranslation | WritableLinear, Store));
        const ulong accessed = 1UL << 8, dirty = 1UL << 9;
        // SDM vol. 3, 29.3.5: guest paging-structure pages are dirty, fetched and read pages only accessed.
        foreach (var page in new[] { Pml4, Pdpt, Pd, Store })
            Assert.AreEqual(accessed | dirty, g.Leaf(page) & (accessed | dirty), $"page {page:x}");
        foreach (var page in new[] { Code, UserData })
            Assert.AreEqual(accessed, g.Leaf(page) & (accessed | dirty), $"page {page:x}");
        for (var level = 2; level <= 4; level++)
            Assert.AreEqual(accessed, g.Ept[g.Ept.EntryAddress(Code, level)] & accessed, $"level {level}");
    }

    [TestMethod]
    public void PagingOffAccessesAndThePdpteLoadOfPaePaging()
    {
        const ulong pdpt = 0x20000, pd = 0x21000, data = 0x3000;
        using var g = new Guest(false, _ => EptTables.ReadWriteExecute);
        g.Load(32, a =>
        {
            a.mov(__dword_ptr[data], 0x1234);
            a.mov(eax, (uint)pdpt);
            a.mov(cr3, eax);
            a.mov(eax, cr0);
            a.or(eax, unchecked((int)0x80000000));
            a.mov(cr0, eax);
            a.mov(eax, __dword_ptr[data]);
            a.hlt();
        });
        g.Memory.Write(pdpt, 8, pd | 1);
        g.Memory.Write(pd, 8, 0x83);
        g.Memory.Write(0x1000, 8, 0);
        g.Memory.Write(0x1008, 8, 0x00CF9B000000FFFFUL);
        g.Memory.Write(0x1010, 8, 0x00CF93000000FFFFUL);
        g.Cpu.Gdtr = new DescriptorTableRegister { Base = 0x1000, Limit = 0x17 };
        g.Cpu.LoadControlState(Cr0.PE | Cr0.ET, 0, Cr4.PAE, 0);
        g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            g.Cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        g.Cpu.Rip = Code;
        Assert.AreEqual(StopReason.Halted, g.Cpu.Run(1_000_000));
        Assert.AreEqual(0x1234UL, g.Cpu.Rax & 0xFFFFFFFF);
        Assert.IsTrue(g.Cpu.PagingEnabled);
        var pdpteLoadRip = g.Hooks.Faults[2].Rip;
        var afterPaging = g.Hooks.Faults[3].Rip;
        AssertFaults(g,
            // Table 28-7: with CR0.PG = 0 every linear address is a user-mode, read/write, executable translation.
            (Code, InstructionFetch | FinalWithPagingOff, Code),
            (data, DataWrite | FinalWithPagingOff, data),
            // MOV to CR0 that enables PAE paging loads the PDPTEs: a read with no guest-linear address (bit 7 clear).
            (pdpt, DataRead, null),
            // The next fetch walks the page directory the PDPTE names.
            (pd, DataRead | LinearValid, afterPaging));
        Assert.AreEqual(afterPaging - 3, pdpteLoadRip, "the PDPTE load faulted on MOV CR0 (3 bytes), the walk on the instruction after it");
    }
}
