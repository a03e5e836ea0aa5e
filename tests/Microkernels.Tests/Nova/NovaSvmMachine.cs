using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Microkernels.Nova;
using Sim.Svm;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// One processor with an SVM unit: a 64-bit host at CPL 0 with EFER.SVME and a host save area, and a vCPU whose VMCB
/// NOVA's way was created at <see cref="Vmcb"/>; its nested page tables map the first 32 MiB but the 2-MiB page at
/// <see cref="NptHole"/>. The UTCB page is filled with <see cref="Fill"/>.
/// </summary>
internal sealed class NovaSvmMachine : IDisposable
{
    public const ulong GdtAddress = 0x1000, IdtAddress = 0x2000, TssAddress = 0x5000;
    public const ulong GuestCode = 0x10000, StubAddress = 0x30000, HostCode = 0x40000, GuestStack = 0x80000, HostStack = 0x90000;
    public const ulong PageTables = 0x100000;
    public const ulong Vmcb = 0x200000, Hsave = 0x201000, Iopm = 0x204000, Msrpm = 0x208000, Utcb = 0x210000;
    public const ulong NestedPml4 = 0x300000;
    public const ulong NptHole = 0x1000000;
    public const ushort CodeSelector = 0x08, DataSelector = 0x10, TssSelector = 0x18;
    public const byte Fill = 0xA5;

    public PhysicalMemory Memory { get; } = new(32 << 20);
    public Processor Cpu { get; }
    public SvmUnit Svm { get; }
    public VcpuRegisters Regs { get; } = new();

    public NovaSvmMachine()
    {
        Memory.Write(GdtAddress + 0x08, 8, 0x00AF9B000000FFFFUL);
        Memory.Write(GdtAddress + 0x10, 8, 0x00CF93000000FFFFUL);
        Memory.Write(GdtAddress + 0x18, 8, 0x0000890000000067UL | ((TssAddress & 0xFFFFFF) << 16));
        for (var v = 0UL; v < 256; v++)
        {
            var stub = StubAddress + v * 4;
            Memory.Write(stub, 1, 0xF4);
            Memory.Write(IdtAddress + v * 16, 8, (stub & 0xFFFF) | ((ulong)CodeSelector << 16) | (0x8EUL << 40) | ((stub >> 16 & 0xFFFF) << 48));
        }
        Memory.Write(HostCode, 1, 0xF4);
        IdentityMap(PageTables, 512, 0);
        IdentityMap(NestedPml4, 16, NptHole);
        Cpu = new Processor(Memory, new TestBus(), 0);
        Svm = new SvmUnit(Cpu);
        Cpu.Gdtr = new DescriptorTableRegister { Base = GdtAddress, Limit = 0x27 };
        Cpu.Idtr = new DescriptorTableRegister { Base = IdtAddress, Limit = 0xFFF };
        Cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET | Cr0.NE, PageTables, Cr4.PAE, Efer.LME | Efer.LMA | Efer.SVME);
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = CodeSelector, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = DataSelector, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        Cpu.Tr = new SegmentRegister { Selector = TssSelector, Base = TssAddress, Limit = 0x67, Attributes = 0x8B };
        Cpu.Rip = HostCode;
        Cpu.Rsp = HostStack;
        Assert.IsTrue(Cpu.TryWriteMsr(SvmMsr.VmHsavePa, Hsave));
        Cpu.HostOwned = true;
        NovaVmcb.Create(Memory, Regs, Vmcb, Iopm, Msrpm, NestedPml4, asid: 1);
        FillUtcb();
    }

    /// <summary>PML4 → PDPT → PD of <paramref name="pages"/> 2-MiB user pages from 0, leaving out <paramref name="hole"/> (if not 0).</summary>
    private void IdentityMap(ulong pml4, ulong pages, ulong hole)
    {
        Memory.Write(pml4, 8, (pml4 + 0x1000) | 7);
        Memory.Write(pml4 + 0x1000, 8, (pml4 + 0x2000) | 7);
        for (ulong i = 0; i < pages; i++)
            if (hole == 0 || i << 21 != hole) Memory.Write(pml4 + 0x2000 + i * 8, 8, (i << 21) | 0x87);
    }

    public void FillUtcb()
    {
        Span<byte> page = stackalloc byte[4096];
        page.Fill(Fill);
        Memory.WriteBytes(Utcb, page);
    }

    public byte[] UtcbBytes()
    {
        var page = new byte[4096];
        Memory.ReadBytes(Utcb, page);
        return page;
    }

    public ulong V(int offset, int size = 8) => Memory.Read(Vmcb + (ulong)offset, size);

    public void SetV(int offset, ulong value, int size = 8) => Memory.Write(Vmcb + (ulong)offset, size, value);

    public void Code(Action<Assembler> build) => Memory.WriteBytes(GuestCode, IcedAssembly.Assemble(64, GuestCode, build));

    public void Dispose()
    {
        Cpu.Dispose();
        Memory.Dispose();
    }
}
