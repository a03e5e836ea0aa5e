using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Vmx;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// A 64-bit guest that executes CPUID in a loop under a VMX unit, with VPID; the host is C# code
/// that handles each CPUID exit the way a kernel model does: VMREAD the instruction length, VMWRITE
/// the guest RIP past it, VMRESUME. One round trip is one VM exit and one VM entry.
/// </summary>
public sealed class VmxRoundTripWorkload : IDisposable
{
    private const ulong GuestCode = 0x10000, HostCode = 0x40000, PageTables = 0x100000, Gdt = 0x1000, Tss = 0x5000;
    private const ulong VmxonRegion = 0x200000, VmcsRegion = 0x201000;
    private const ulong Cr0Value = Cr0.PE | Cr0.NE | Cr0.PG | Cr0.ET, Cr4Value = Cr4.PAE | Cr4.VMXE;

    private readonly PhysicalMemory _memory = new(32 << 20);
    private readonly Processor _cpu;
    private readonly VmxUnit _unit;

    private sealed class NullBus : IIoBus
    {
        public uint Read(ushort port, int size) => 0xFFFFFFFF;
        public void Write(ushort port, int size, uint value) { }
    }

    public VmxRoundTripWorkload()
    {
        _cpu = new Processor(_memory, new NullBus());
        _unit = new VmxUnit(_cpu, new VmcsRegistry());
        _memory.Write(Gdt + 0x08, 8, 0x00AF9B000000FFFFUL);
        _memory.Write(Gdt + 0x10, 8, 0x00CF93000000FFFFUL);
        _memory.Write(Gdt + 0x18, 8, 0x0000890000000067UL | (Tss << 16));
        _memory.Write(PageTables, 8, (PageTables + 0x1000) | 7);
        _memory.Write(PageTables + 0x1000, 8, (PageTables + 0x2000) | 7);
        for (ulong i = 0; i < 512; i++) _memory.Write(PageTables + 0x2000 + i * 8, 8, (i << 21) | 0x87);
        _memory.Write(HostCode, 1, 0xF4);
        _memory.Write(VmxonRegion, 4, VmxCapability.VmcsRevisionId);
        _memory.Write(VmcsRegion, 4, VmxCapability.VmcsRevisionId);
        var a = new Assembler(64);
        var top = a.CreateLabel();
        a.Label(ref top);
        a.xor(eax, eax);
        a.cpuid();
        a.jmp(top);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), GuestCode);
        _memory.WriteBytes(GuestCode, stream.ToArray());

        _cpu.LoadControlState(Cr0Value, PageTables, Cr4Value, Efer.LME | Efer.LMA);
        _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            _cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        _cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x1F };
        _cpu.Tr = new SegmentRegister { Selector = 0x18, Base = Tss, Limit = 0x67, Attributes = 0x8B };
        _cpu.FeatureControl = 5;
        Check(_unit.Vmxon(VmxonRegion));
        Check(_unit.Vmclear(VmcsRegion));
        Check(_unit.Vmptrld(VmcsRegion));
        WriteVmcs();
        _cpu.HostOwned = true;
        Check(_unit.Vmlaunch());
    }

    private static void Check(VmxResult r)
    {
        if (!r.Succeeded) throw new InvalidOperationException(r.ToString());
    }

    private void W(VmcsField f, ulong v) => Check(_unit.Vmwrite(f, v));

    private void WriteVmcs()
    {
        W(VmcsField.PinBasedVmExecutionControls, PinBasedControls.Default1);
        W(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.TrueDefault1 | ProcessorBasedControls.ActivateSecondaryControls);
        W(VmcsField.SecondaryProcessorBasedVmExecutionControls, SecondaryProcessorBasedControls.EnableVpid);
        W(VmcsField.VirtualProcessorIdentifier, 1);
        W(VmcsField.VmExitControls, VmExitControls.TrueDefault1 | VmExitControls.HostAddressSpaceSize);
        W(VmcsField.VmEntryControls, VmEntryControls.TrueDefault1 | VmEntryControls.Ia32eModeGuest);
        W(VmcsField.VmcsLinkPointer, ulong.MaxValue);
        W(VmcsField.HostCr0, Cr0Value);
        W(VmcsField.HostCr3, PageTables);
        W(VmcsField.HostCr4, Cr4Value);
        W(VmcsField.HostCsSelector, 0x08);
        foreach (var f in new[] { VmcsField.HostSsSelector, VmcsField.HostDsSelector, VmcsField.HostEsSelector, VmcsField.HostFsSelector, VmcsField.HostGsSelector })
            W(f, 0x10);
        W(VmcsField.HostTrSelector, 0x18);
        W(VmcsField.HostTrBase, Tss);
        W(VmcsField.HostGdtrBase, Gdt);
        W(VmcsField.HostRip, HostCode);
        W(VmcsField.HostRsp, 0x90000);
        W(VmcsField.GuestCr0, Cr0Value);
        W(VmcsField.GuestCr3, PageTables);
        W(VmcsField.GuestCr4, Cr4Value);
        W(VmcsField.GuestCsSelector, 0x08);
        W(VmcsField.GuestCsLimit, 0xFFFFFFFF);
        W(VmcsField.GuestCsAccessRights, 0xA09B);
        foreach (var s in new uint[] { 0, 2, 3, 4, 5 })
        {
            W((VmcsField)((uint)VmcsField.GuestEsSelector + s * 2), 0x10);
            W((VmcsField)((uint)VmcsField.GuestEsLimit + s * 2), 0xFFFFFFFF);
            W((VmcsField)((uint)VmcsField.GuestEsAccessRights + s * 2), 0xC093);
        }
        W(VmcsField.GuestLdtrAccessRights, 0x10000);
        W(VmcsField.GuestTrSelector, 0x18);
        W(VmcsField.GuestTrBase, Tss);
        W(VmcsField.GuestTrLimit, 0x67);
        W(VmcsField.GuestTrAccessRights, 0x8B);
        W(VmcsField.GuestGdtrBase, Gdt);
        W(VmcsField.GuestGdtrLimit, 0x1F);
        W(VmcsField.GuestRflags, Rflags.Reserved1);
        W(VmcsField.GuestRip, GuestCode);
        W(VmcsField.GuestRsp, 0x80000);
    }

    /// <summary>Runs <paramref name="count"/> CPUID exit/entry round trips; returns the exits seen.</summary>
    public ulong RoundTrips(int count)
    {
        var start = _unit.ExitCount;
        for (var i = 0; i < count; i++)
        {
            _cpu.Run(ulong.MaxValue);
            _unit.Vmread(VmcsField.GuestRip, out var rip);
            _unit.Vmread(VmcsField.VmExitInstructionLength, out var length);
            _unit.Vmwrite(VmcsField.GuestRip, rip + length);
            _unit.Vmresume();
        }
        return _unit.ExitCount - start;
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }
}
