using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Platform;
using Sim.Vmx;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// Processors with VMX units, each host-owned in a 64-bit host environment (identity-mapped first
/// GiB, flat GDT with a 64-bit TSS, an IDT whose every vector leads to a HLT stub, HLT at the host
/// RIP) at fixed addresses, and a baseline VMCS whose guest is a 64-bit copy of the host
/// environment that passes every VM-entry check. Host software, tests and benchmarks change the
/// VMCS from there and run guests through the units' instruction-level API.
/// </summary>
public class VmxHostMachine : IDisposable
{
    public const ulong GdtAddress = 0x1000, IdtAddress = 0x2000, TssAddress = 0x5000;
    public const ulong GuestCode = 0x10000, StubAddress = 0x30000, HostCode = 0x40000;
    public const ulong PageTables = 0x100000;
    public const ulong VmxonRegion = 0x200000, VmcsRegion = 0x201000, SecondVmcs = 0x202000;
    public const ulong IoBitmapA = 0x203000, IoBitmapB = 0x204000, MsrBitmap = 0x205000, VirtualApic = 0x206000, MsrArea = 0x207000;
    public const ulong EptPool = 0x400000;
    public const ulong HostStack = 0x90000, GuestStack = 0x80000;
    public const ushort CodeSelector = 0x08, DataSelector = 0x10, TssSelector = 0x18, Code32Selector = 0x28;
    public const ulong HostCr0 = Cr0.PE | Cr0.NE | Cr0.PG | Cr0.ET;
    public const ulong HostCr4 = Cr4.PAE | Cr4.VMXE;

    /// <summary>The VMXON regions of the processors, <see cref="VmxonStride"/> apart from <see cref="VmxonRegion"/>.</summary>
    public const ulong VmxonStride = 0x10000;

    private readonly List<VmExitInfo> _exits = new();
    private readonly ulong[] _exitsSeen;

    public VmxHostMachine(int cpus = 1, IIoBus? bus = null, ulong memoryBytes = 32 << 20)
    {
        if (cpus < 1 || VmxonRegion + (ulong)cpus * VmxonStride > EptPool) throw new ArgumentOutOfRangeException(nameof(cpus));
        Memory = new PhysicalMemory(memoryBytes);
        var io = bus ?? new IoBus();
        Cpus = new Processor[cpus];
        Units = new VmxUnit[cpus];
        _exitsSeen = new ulong[cpus];
        WriteTables();
        for (var i = 0; i < cpus; i++)
        {
            Cpus[i] = new Processor(Memory, io, i);
            Units[i] = new VmxUnit(Cpus[i], Registry);
            StartHost(Cpus[i]);
            Cpus[i].HostOwned = true;
        }
        for (var i = 0; i < cpus; i++) Memory.Write(VmxonRegion + (ulong)i * VmxonStride, 4, VmxCapability.VmcsRevisionId);
        Memory.Write(VmcsRegion, 4, VmxCapability.VmcsRevisionId);
        Memory.Write(SecondVmcs, 4, VmxCapability.VmcsRevisionId);
        for (var v = 0; v < 256; v++) Memory.Write(StubAddress + (ulong)v * 4, 1, 0xF4);
        Memory.Write(HostCode, 1, 0xF4);
    }

    public PhysicalMemory Memory { get; }
    public VmcsRegistry Registry { get; } = new();
    public Processor[] Cpus { get; }
    public VmxUnit[] Units { get; }
    public Processor Cpu => Cpus[0];
    public VmxUnit Unit => Units[0];

    /// <summary>The host environment every processor runs in, as a VMCS's host-state area takes it.</summary>
    public static HostState Host { get; } = new(HostCr0, PageTables, HostCr4, Efer.LME | Efer.LMA, CodeSelector, DataSelector, TssSelector,
        TssAddress, GdtAddress, IdtAddress, HostStack, HostCode);

    /// <summary>The VM exits of every unit so far, oldest first, read from each unit's last exit as it is observed.</summary>
    /// <exception cref="InvalidOperationException">A unit exited more than once between two observations.</exception>
    public IReadOnlyList<VmExitInfo> Exits
    {
        get
        {
            for (var i = 0; i < Units.Length; i++)
            {
                var count = Units[i].ExitCount;
                if (count == _exitsSeen[i]) continue;
                if (count != _exitsSeen[i] + 1)
                    throw new InvalidOperationException($"CPU {i}: {count - _exitsSeen[i]} VM exits happened between two observations");
                _exits.Add(Units[i].LastExit);
                _exitsSeen[i] = count;
            }
            return _exits;
        }
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
        cpu.Rsp = HostStack;
        cpu.FeatureControl = 5;
    }

    /// <summary>VMXON, VMCLEAR and VMPTRLD of <paramref name="vmcs"/> on <paramref name="cpu"/>, then the baseline VMCS; the first result that is not success.</summary>
    public VmxResult EnterVmxOperation(int cpu = 0, ulong vmcs = VmcsRegion)
    {
        var u = Units[cpu];
        var r = u.Vmxon(VmxonRegion + (ulong)cpu * VmxonStride);
        if (r.Succeeded) r = u.Vmclear(vmcs);
        if (r.Succeeded) r = u.Vmptrld(vmcs);
        return r.Succeeded ? WriteBaseline(u) : r;
    }

    /// <summary>Writes <paramref name="field"/> of the current VMCS of <paramref name="cpu"/>.</summary>
    /// <exception cref="VmxHostException">VMWRITE failed.</exception>
    public void WriteField(VmcsField field, ulong value, int cpu = 0)
    {
        var r = Units[cpu].Vmwrite(field, value);
        if (!r.Succeeded) throw new VmxHostException($"VMWRITE {field} = {value:x} on CPU {cpu}: {r}");
    }

    /// <exception cref="VmxHostException">VMREAD failed.</exception>
    public ulong ReadField(VmcsField field, int cpu = 0)
    {
        var r = Units[cpu].Vmread(field, out var value);
        if (!r.Succeeded) throw new VmxHostException($"VMREAD {field} on CPU {cpu}: {r}");
        return value;
    }

    /// <summary>Sets <paramref name="set"/> and clears <paramref name="clear"/> in a control field.</summary>
    public void ChangeControl(VmcsField field, uint set, uint clear = 0, int cpu = 0) =>
        WriteField(field, (ReadField(field, cpu) | set) & ~(ulong)clear, cpu);

    /// <summary>A VMCS that passes every VM-entry check: a 64-bit guest at <see cref="GuestCode"/> in the host's environment, HLT exiting on.</summary>
    public static VmxResult WriteBaseline(VmxUnit u)
    {
        ArgumentNullException.ThrowIfNull(u);
        var result = VmxResult.Succeed;
        void W(VmcsField f, ulong v)
        {
            var r = u.Vmwrite(f, v);
            if (result.Succeeded && !r.Succeeded) result = r;
        }
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
        W(VmcsField.HostRsp, HostStack);

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
        W(VmcsField.GuestRsp, GuestStack);
        W(VmcsField.GuestIa32Pat, 0x0007040600070406UL);
        W(VmcsField.GuestIa32Efer, Efer.LME | Efer.LMA);
        return result;
    }

    /// <summary>Turns the baseline guest of CPU 0 into a 32-bit guest with paging off under an identity EPT of the first 512 GiB (unrestricted guest), IDT of 8-byte gates at <paramref name="idt"/>.</summary>
    public void MakeProtectedModeGuest(ulong idt = 0)
    {
        var ept = new EptTables(Memory, EptPool);
        ept.Map(0, 0, level: 3);
        WriteField(VmcsField.EptPointer, ept.Eptp());
        ChangeControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.ActivateSecondaryControls);
        WriteField(VmcsField.SecondaryProcessorBasedVmExecutionControls, SecondaryProcessorBasedControls.EnableEpt | SecondaryProcessorBasedControls.UnrestrictedGuest);
        ChangeControl(VmcsField.VmEntryControls, 0, VmEntryControls.Ia32eModeGuest);
        WriteField(VmcsField.GuestCr0, Cr0.PE | Cr0.NE | Cr0.ET);
        WriteField(VmcsField.GuestCr4, Cr4.VMXE);
        WriteField(VmcsField.GuestIa32Efer, 0);
        WriteField(VmcsField.GuestCsSelector, Code32Selector);
        WriteField(VmcsField.GuestCsAccessRights, 0xC09B);
        if (idt != 0)
        {
            WriteField(VmcsField.GuestIdtrBase, idt);
            WriteField(VmcsField.GuestIdtrLimit, 0x7FF);
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var c in Cpus) c.Dispose();
        Memory.Dispose();
    }
}
