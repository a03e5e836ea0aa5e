using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Platform;
using Sim.Svm;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// One host-owned processor with its SVM unit: a 64-bit host at CPL 0 with EFER.SVME set and a host
/// save area, at fixed addresses, and a VMCB at <see cref="VmcbPa"/> that <see cref="BaselineGuest"/>
/// fills with a valid flat 32-bit protected-mode guest (paging off) whose every IDT vector leads to a
/// HLT stub. Several machines may share one memory (one per processor); the first writes the tables.
/// </summary>
public class SvmHostMachine : IDisposable
{
    public const ulong GdtAddress = 0x1000;
    public const ulong GuestIdt32 = 0x2000;
    public const ulong GuestIdt64 = 0x3000;
    public const ulong HostIdt = 0x5000;
    public const ulong HostTss = 0x6000;
    public const ulong HostCode = 0x10000;
    public const ulong GuestCode = 0x20000;
    public const ulong HostStubs = 0x30000;
    public const ulong GuestStubs = 0x38000;
    public const ulong VmcbPa = 0x40000;
    public const ulong HsavePa = 0x41000;
    public const ulong SecondVmcbPa = 0x42000;
    public const ulong IopmPa = 0x50000;
    public const ulong MsrpmPa = 0x54000;
    public const ulong GuestStack = 0x70000;
    public const ulong HostStack = 0x80000;
    public const ulong Pml4 = 0x100000;
    public const ushort Code64 = 0x08, Data = 0x10, Code32 = 0x18, Tss = 0x20;
    public const ulong HostCr0 = Cr0.PE | Cr0.PG | Cr0.ET | Cr0.NE, HostCr4 = Cr4.PAE;

    private readonly bool _ownsMemory;

    /// <param name="shared">Memory of another machine whose tables this one's processor uses; null for a new memory of <paramref name="memorySize"/> bytes.</param>
    /// <param name="index">The processor's index (its APIC ID).</param>
    /// <param name="bus">The port bus; an empty one when null.</param>
    public SvmHostMachine(PhysicalMemory? shared = null, int index = 0, ulong memorySize = 16 << 20, IIoBus? bus = null)
    {
        _ownsMemory = shared == null;
        Memory = shared ?? new PhysicalMemory(memorySize);
        Cpu = new Processor(Memory, bus ?? new IoBus(), index);
        Unit = new SvmUnit(Cpu);
        Cpu.HostOwned = true;
        if (_ownsMemory) WriteSharedTables();
        StartHost();
        BaselineGuest();
    }

    public PhysicalMemory Memory { get; }
    public Processor Cpu { get; }
    public SvmUnit Unit { get; }

    /// <summary>#VMEXITs so far, VMEXIT_INVALID included.</summary>
    public int Exits => (int)Unit.ExitCount;

    public Vmcb Vmcb => new(Memory, VmcbPa);

    /// <summary>The host environment the processor runs in, as #VMEXIT restores it.</summary>
    public static HostState Host { get; } = new(HostCr0, Pml4, HostCr4, Efer.LME | Efer.LMA | Efer.SVME, Code64, Data, Tss,
        HostTss, GdtAddress, HostIdt, HostStack, HostCode);

    /// <summary>GDT, IDTs, stubs and the identity map of the first GiB (2-MiB pages).</summary>
    private void WriteSharedTables()
    {
        Memory.Write(GdtAddress, 8, 0);
        Memory.Write(GdtAddress + 0x08, 8, 0x00AF9B000000FFFFUL);
        Memory.Write(GdtAddress + 0x10, 8, 0x00CF93000000FFFFUL);
        Memory.Write(GdtAddress + 0x18, 8, 0x00CF9B000000FFFFUL);
        Memory.Write(GdtAddress + 0x20, 8, 0x0000890000000067UL | (HostTss << 16));
        Memory.Write(GdtAddress + 0x28, 8, 0);
        for (var v = 0UL; v < 256; v++)
        {
            Memory.Write(HostStubs + v * 4, 1, 0xF4);
            Memory.Write(GuestStubs + v * 4, 1, 0xF4);
            var guest = GuestStubs + v * 4;
            Memory.Write(GuestIdt32 + v * 8, 8, Gate(Code32, guest, 0xE, 3));
            Memory.Write(GuestIdt64 + v * 16, 8, Gate(Code64, guest, 0xE, 3));
            Memory.Write(GuestIdt64 + v * 16 + 8, 8, 0);
            Memory.Write(HostIdt + v * 16, 8, Gate(Code64, HostStubs + v * 4, 0xE, 3));
            Memory.Write(HostIdt + v * 16 + 8, 8, 0);
        }
        Memory.Write(Pml4, 8, (Pml4 + 0x1000) | 7);
        Memory.Write(Pml4 + 0x1000, 8, (Pml4 + 0x2000) | 7);
        for (ulong i = 0; i < 512; i++) Memory.Write(Pml4 + 0x2000 + i * 8, 8, (i << 21) | 0x87);
    }

    /// <summary>An interrupt gate (type 0Eh) in the 32-bit layout (the low quadword of a 64-bit gate).</summary>
    public static ulong Gate(ushort selector, ulong offset, int type, int dpl) =>
        (offset & 0xFFFF) | ((ulong)selector << 16) | ((ulong)(0x80 | (dpl << 5) | type) << 40) | ((offset & 0xFFFF0000) << 32);

    /// <summary>The host: 64-bit mode, CPL 0, EFER.SVME, VM_HSAVE_PA, GIF set.</summary>
    public void StartHost()
    {
        var cpu = Cpu;
        cpu.Gdtr = new DescriptorTableRegister { Base = GdtAddress, Limit = 0x2F };
        cpu.Idtr = new DescriptorTableRegister { Base = HostIdt, Limit = 0xFFF };
        cpu.LoadControlState(HostCr0, Pml4, HostCr4, Efer.LME | Efer.SVME);
        cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = Code64, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            cpu.SetSegment(s, new SegmentRegister { Selector = Data, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        cpu.Tr = new SegmentRegister { Selector = Tss, Base = HostTss, Limit = 0x67, Attributes = 0x8B };
        cpu.Rip = HostCode;
        cpu.Rsp = HostStack;
        if (!cpu.TryWriteMsr(SvmMsr.VmHsavePa, HsavePa)) throw new InvalidOperationException("VM_HSAVE_PA refused the host save area");
    }

    /// <summary>A valid VMCB (APM vol. 2, 15.5.1): flat 32-bit protected mode without paging at <see cref="GuestCode"/>, ASID 1, only VMRUN intercepted.</summary>
    public void BaselineGuest(ulong vmcb = VmcbPa)
    {
        var v = new Vmcb(Memory, vmcb);
        v.Clear();
        v.Intercept(SvmIntercept.Vmrun);
        v.Write(VmcbLayout.GuestAsid, 4, 1);
        v.Write(VmcbLayout.IopmBasePa, 8, IopmPa);
        v.Write(VmcbLayout.MsrpmBasePa, 8, MsrpmPa);
        v.Write(VmcbLayout.Efer, 8, Efer.SVME);
        v.Write(VmcbLayout.Cr0, 8, Cr0.PE | Cr0.ET | Cr0.NE);
        v.Write(VmcbLayout.Cr4, 8, 0);
        v.Write(VmcbLayout.Cr3, 8, 0);
        v.Segment(VmcbLayout.Cs, Code32, 0xC9B, 0xFFFFFFFF, 0);
        foreach (var s in new[] { VmcbLayout.Ds, VmcbLayout.Es, VmcbLayout.Ss })
            v.Segment(s, Data, 0xC93, 0xFFFFFFFF, 0);
        v.Segment(VmcbLayout.Gdtr, 0, 0, 0x2F, GdtAddress);
        v.Segment(VmcbLayout.Idtr, 0, 0, 0x7FF, GuestIdt32);
        v.Write(VmcbLayout.Rflags, 8, 2);
        v.Write(VmcbLayout.Rip, 8, GuestCode);
        v.Write(VmcbLayout.Rsp, 8, GuestStack);
        v.Write(VmcbLayout.Dr6, 8, 0xFFFF0FF0);
        v.Write(VmcbLayout.Dr7, 8, 0x400);
        v.Write(VmcbLayout.GPat, 8, 0x0007040600070406UL);
    }

    /// <summary>Turns the baseline guest into a 64-bit guest that shares the host's identity map.</summary>
    public void LongModeGuest(ulong vmcb = VmcbPa)
    {
        var v = new Vmcb(Memory, vmcb);
        v.Write(VmcbLayout.Efer, 8, Efer.SVME | Efer.LME | Efer.LMA);
        v.Write(VmcbLayout.Cr0, 8, Cr0.PE | Cr0.ET | Cr0.NE | Cr0.PG);
        v.Write(VmcbLayout.Cr4, 8, Cr4.PAE);
        v.Write(VmcbLayout.Cr3, 8, Pml4);
        v.Segment(VmcbLayout.Cs, Code64, 0xA9B, 0xFFFFFFFF, 0);
        v.Segment(VmcbLayout.Idtr, 0, 0, 0xFFF, GuestIdt64);
    }

    /// <summary>The vector of the guest HLT stub the guest's RIP is in (after a HLT exit: RIP at the HLT), or -1.</summary>
    public int GuestStubVector(ulong rip) =>
        rip >= GuestStubs && rip < GuestStubs + 1024 && (rip - GuestStubs) % 4 == 0 ? (int)((rip - GuestStubs) / 4) : -1;

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        Cpu.Dispose();
        if (_ownsMemory) Memory.Dispose();
    }
}
