using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Vmx.Tests;

/// <summary>
/// A machine of one or more processors with VMX units, a 64-bit host in VMX root operation
/// (identity-mapped first GiB, flat GDT with a 64-bit TSS) and a baseline VMCS whose guest is a
/// 64-bit copy of the host environment. Tests mutate the VMCS and run guest programs.
/// </summary>
public sealed class VmxMachine : IDisposable
{
    public const ulong GdtAddress = 0x1000, IdtAddress = 0x2000, TssAddress = 0x5000;
    public const ulong GuestCode = 0x10000, StubAddress = 0x30000, HostCode = 0x40000;
    public const ulong PageTables = 0x100000;
    public const ulong VmxonRegion = 0x200000, VmcsRegion = 0x201000, SecondVmcs = 0x202000;
    public const ulong IoBitmapA = 0x203000, IoBitmapB = 0x204000, MsrBitmap = 0x205000, VirtualApic = 0x206000, MsrArea = 0x207000;
    public const ulong EptPool = 0x400000;
    public const ushort CodeSelector = 0x08, DataSelector = 0x10, TssSelector = 0x18, Code32Selector = 0x28;
    public const ulong HostCr0 = Cr0.PE | Cr0.NE | Cr0.PG | Cr0.ET;
    public const ulong HostCr4 = Cr4.PAE | Cr4.VMXE;

    public PhysicalMemory Memory { get; }
    internal TestBus Bus { get; } = new() { ReadValue = 0x5A };
    public VmcsRegistry Registry { get; } = new();
    public Processor[] Cpus { get; }
    public VmxUnit[] Units { get; }
    private readonly List<VmExitInfo> _exits = new();
    private ulong[] _exitsSeen = [];

    /// <summary>The VM exits of every unit so far, oldest first, read from each unit's last exit as it is observed.</summary>
    public IReadOnlyList<VmExitInfo> Exits
    {
        get
        {
            for (var i = 0; i < Units.Length; i++)
            {
                var count = Units[i].ExitCount;
                if (count == _exitsSeen[i]) continue;
                Assert.AreEqual(_exitsSeen[i] + 1, count, "more than one VM exit happened between two observations");
                _exits.Add(Units[i].LastExit);
                _exitsSeen[i] = count;
            }
            return _exits;
        }
    }

    public Processor Cpu => Cpus[0];
    public VmxUnit Unit => Units[0];

    public VmxMachine(int cpus = 1)
    {
        Memory = new PhysicalMemory(32 << 20);
        Cpus = new Processor[cpus];
        Units = new VmxUnit[cpus];
        _exitsSeen = new ulong[cpus];
        WriteTables();
        for (var i = 0; i < cpus; i++)
        {
            Cpus[i] = new Processor(Memory, Bus, i);
            Units[i] = new VmxUnit(Cpus[i], Registry);
            StartHost(Cpus[i]);
            Cpus[i].HostOwned = true;
        }
        for (var i = 0; i < cpus; i++) Memory.Write(VmxonRegion + (ulong)i * 0x10000, 4, VmxCapability.VmcsRevisionId);
        Memory.Write(VmcsRegion, 4, VmxCapability.VmcsRevisionId);
        Memory.Write(SecondVmcs, 4, VmxCapability.VmcsRevisionId);
        for (var v = 0; v < 256; v++) Memory.Write(StubAddress + (ulong)v * 4, 1, 0xF4);
        Memory.Write(HostCode, 1, 0xF4);
    }

    private void WriteTables()
    {
        Memory.Write(GdtAddress, 8, 0);
        Memory.Write(GdtAddress + 0x08, 8, 0x00AF9B000000FFFFUL);
        Memory.Write(GdtAddress + 0x10, 8, 0x00CF93000000FFFFUL);
        Memory.Write(GdtAddress + 0x18, 8, 0x0000890000000067UL | ((TssAddress & 0xFFFFFF) << 16));
        Memory.Write(GdtAddress + 0x20, 8, 0);
        Memory.Write(GdtAddress + 0x28, 8, 0x00CF9B000000FFFFUL);
        for (var v = 0UL; v < 256; v++)
        {
            var stub = StubAddress + v * 4;
            var low = (stub & 0xFFFF) | ((ulong)CodeSelector << 16) | (0x8EUL << 40) | ((stub >> 16 & 0xFFFF) << 48);
            Memory.Write(IdtAddress + v * 16, 8, low);
            Memory.Write(IdtAddress + v * 16 + 8, 8, stub >> 32);
        }
        Memory.Write(PageTables, 8, (PageTables + 0x1000) | 7);
        Memory.Write(PageTables + 0x1000, 8, (PageTables + 0x2000) | 7);
        for (ulong i = 0; i < 512; i++) Memory.Write(PageTables + 0x2000 + i * 8, 8, (i << 21) | 0x87);
    }

    /// <summary>The host: 64-bit mode at CPL 0 with CR4.VMXE, IA32_FEATURE_CONTROL locked with VMX outside SMX enabled.</summary>
    private static void StartHost(Processor cpu)
    {
        cpu.LoadControlState(HostCr0, PageTables, HostCr4, Efer.LME | Efer.LMA);
        cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = CodeSelector, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            cpu.SetSegment(s, new SegmentRegister { Selector = DataSelector, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        cpu.Gdtr = new DescriptorTableRegister { Base = GdtAddress, Limit = 0x2F };
        cpu.Idtr = new DescriptorTableRegister { Base = IdtAddress, Limit = 0xFFF };
        cpu.Tr = new SegmentRegister { Selector = TssSelector, Base = TssAddress, Limit = 0x67, Attributes = 0x8B };
        cpu.Rip = HostCode;
        cpu.Rsp = 0x90000;
        cpu.FeatureControl = 5;
    }

    /// <summary>VMXON, VMCLEAR and VMPTRLD of the VMCS, then the baseline VMCS.</summary>
    public VmxMachine Ready(int cpu = 0, ulong vmcs = VmcsRegion)
    {
        var u = Units[cpu];
        Assert.AreEqual(VmxResult.Succeed, u.Vmxon(VmxonRegion + (ulong)cpu * 0x10000));
        Assert.AreEqual(VmxResult.Succeed, u.Vmclear(vmcs));
        Assert.AreEqual(VmxResult.Succeed, u.Vmptrld(vmcs));
        Baseline(u);
        return this;
    }

    public void Write(VmcsField field, ulong value, int cpu = 0) => Assert.AreEqual(VmxResult.Succeed, Units[cpu].Vmwrite(field, value), field.ToString());

    public ulong Read(VmcsField field, int cpu = 0)
    {
        Assert.AreEqual(VmxResult.Succeed, Units[cpu].Vmread(field, out var value), field.ToString());
        return value;
    }

    /// <summary>A VMCS that passes every VM-entry check: a 64-bit guest at <see cref="GuestCode"/> in the host's environment, HLT exiting on.</summary>
    public void Baseline(VmxUnit u)
    {
        void W(VmcsField f, ulong v) => Assert.AreEqual(VmxResult.Succeed, u.Vmwrite(f, v), f.ToString());
        W(VmcsField.PinBasedVmExecutionControls, PinBasedControls.Default1);
        W(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.TrueDefault1 | ProcessorBasedControls.HltExiting);
        W(VmcsField.VmExitControls, VmExitControls.TrueDefault1 | VmExitControls.HostAddressSpaceSize);
        W(VmcsField.VmEntryControls, VmEntryControls.TrueDefault1 | VmEntryControls.Ia32eModeGuest);
        W(VmcsField.VmcsLinkPointer, ulong.MaxValue);

        W(VmcsField.HostCr0, HostCr0);
        W(VmcsField.HostCr3, PageTables);
        W(VmcsField.HostCr4, HostCr4);
        W(VmcsField.HostCsSelector, CodeSelector);
        foreach (var f in new[] { VmcsField.HostSsSelector, VmcsField.HostDsSelector, VmcsField.HostEsSelector, VmcsField.HostFsSelector, VmcsField.HostGsSelector })
            W(f, DataSelector);
        W(VmcsField.HostTrSelector, TssSelector);
        W(VmcsField.HostTrBase, TssAddress);
        W(VmcsField.HostGdtrBase, GdtAddress);
        W(VmcsField.HostIdtrBase, IdtAddress);
        W(VmcsField.HostRip, HostCode);
        W(VmcsField.HostRsp, 0x90000);

        W(VmcsField.GuestCr0, HostCr0);
        W(VmcsField.GuestCr3, PageTables);
        W(VmcsField.GuestCr4, HostCr4);
        W(VmcsField.GuestCsSelector, CodeSelector);
        W(VmcsField.GuestCsLimit, 0xFFFFFFFF);
        W(VmcsField.GuestCsAccessRights, 0xA09B);
        foreach (var s in new[] { 0, 2, 3, 4, 5 })
        {
            W((VmcsField)((uint)VmcsField.GuestEsSelector + (uint)s * 2), DataSelector);
            W((VmcsField)((uint)VmcsField.GuestEsLimit + (uint)s * 2), 0xFFFFFFFF);
            W((VmcsField)((uint)VmcsField.GuestEsAccessRights + (uint)s * 2), 0xC093);
        }
        W(VmcsField.GuestLdtrAccessRights, 0x10000);
        W(VmcsField.GuestTrSelector, TssSelector);
        W(VmcsField.GuestTrBase, TssAddress);
        W(VmcsField.GuestTrLimit, 0x67);
        W(VmcsField.GuestTrAccessRights, 0x8B);
        W(VmcsField.GuestGdtrBase, GdtAddress);
        W(VmcsField.GuestGdtrLimit, 0x2F);
        W(VmcsField.GuestIdtrBase, IdtAddress);
        W(VmcsField.GuestIdtrLimit, 0xFFF);
        W(VmcsField.GuestDr7, 0x400);
        W(VmcsField.GuestRflags, Rflags.Reserved1);
        W(VmcsField.GuestRip, GuestCode);
        W(VmcsField.GuestRsp, 0x80000);
        W(VmcsField.GuestIa32Pat, 0x0007040600070406UL);
        W(VmcsField.GuestIa32Efer, Efer.LME | Efer.LMA);
    }

    /// <summary>Assembles 64-bit guest code at <paramref name="address"/>.</summary>
    public void Code(Action<Assembler> build, ulong address = GuestCode, int bitness = 64) =>
        Memory.WriteBytes(address, IcedAssembly.Assemble(bitness, address, build));

    public void SetControl(VmcsField field, uint set, uint clear = 0, int cpu = 0) =>
        Write(field, (Read(field, cpu) | set) & ~(ulong)clear, cpu);

    /// <summary>VMLAUNCH, then runs the processor until the unit reports a VM exit; returns the exit.</summary>
    public VmExitInfo LaunchAndRun(int cpu = 0, ulong cycles = 1_000_000)
    {
        Assert.AreEqual(VmxResult.Succeed, Units[cpu].Vmlaunch());
        return RunToExit(cpu, cycles);
    }

    public VmExitInfo RunToExit(int cpu = 0, ulong cycles = 1_000_000)
    {
        var before = Exits.Count;
        var stop = Cpus[cpu].Run(Cpus[cpu].Cycles + cycles);
        Assert.AreEqual(StopReason.VmExit, stop, $"no VM exit: RIP={Cpus[cpu].Rip:x} pending={Cpus[cpu].PendingException}");
        Assert.AreEqual(before + 1, Exits.Count);
        Assert.IsFalse(Units[cpu].InNonRootOperation);
        return Exits[^1];
    }

    /// <summary>A 32-bit guest with paging off under an identity EPT (unrestricted guest), IDT of 8-byte gates at <paramref name="idt"/>.</summary>
    public static VmxMachine ProtectedModeGuest(ulong idt = 0)
    {
        var m = new VmxMachine().Ready();
        var ept = new EptTables(m.Memory, VmxMachine.EptPool);
        ept.Map(0, 0, level: 3);
        m.Write(VmcsField.EptPointer, ept.Eptp());
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.ActivateSecondaryControls);
        m.Write(VmcsField.SecondaryProcessorBasedVmExecutionControls, SecondaryProcessorBasedControls.EnableEpt | SecondaryProcessorBasedControls.UnrestrictedGuest);
        m.SetControl(VmcsField.VmEntryControls, 0, VmEntryControls.Ia32eModeGuest);
        m.Write(VmcsField.GuestCr0, Cr0.PE | Cr0.NE | Cr0.ET);
        m.Write(VmcsField.GuestCr4, Cr4.VMXE);
        m.Write(VmcsField.GuestIa32Efer, 0);
        m.Write(VmcsField.GuestCsSelector, VmxMachine.Code32Selector);
        m.Write(VmcsField.GuestCsAccessRights, 0xC09B);
        if (idt != 0)
        {
            m.Write(VmcsField.GuestIdtrBase, idt);
            m.Write(VmcsField.GuestIdtrLimit, 0x7FF);
        }
        return m;
    }

    public void Dispose()
    {
        foreach (var c in Cpus) c.Dispose();
        Memory.Dispose();
    }
}
