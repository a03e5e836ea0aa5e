using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Microkernels.Kernel;
using Sim.Microkernels.Nova;
using Sim.Vmx;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// One processor with a VMX unit, a 64-bit host at CPL 0 (identity-mapped first GiB, flat GDT with a 64-bit TSS) in VMX
/// operation, and a vCPU whose VMCS NOVA's way was created and is current; its EPT maps the first 32 MiB but the 2-MiB
/// page at <see cref="EptHole"/>. The UTCB page is filled with <see cref="Fill"/>.
/// </summary>
internal sealed class NovaVmxMachine : IDisposable
{
    public const ulong GdtAddress = 0x1000, IdtAddress = 0x2000, TssAddress = 0x5000;
    public const ulong GuestCode = 0x10000, StubAddress = 0x30000, HostCode = 0x40000, GuestStack = 0x80000, HostStack = 0x90000;
    public const ulong PageTables = 0x100000;
    public const ulong VmxonRegion = 0x200000, Utcb = 0x210000;
    public const ulong EptPml4 = 0x300000;
    public const ulong EptHole = 0x1000000;
    public const ushort CodeSelector = 0x08, DataSelector = 0x10, TssSelector = 0x18;
    public const ulong HostCr0 = Cr0.PE | Cr0.NE | Cr0.PG | Cr0.ET;
    public const ulong HostCr4 = Cr4.PAE | Cr4.VMXE;
    public const byte Fill = 0xA5;

    public static readonly NovaVmcsPages Pages = new(0x201000, 0x202000, 0x204000, 0x205000, 0x206000, 0x207000);

    public PhysicalMemory Memory { get; } = new(32 << 20);
    public Processor Cpu { get; }
    public VmxUnit Vmx { get; }
    public VcpuRegisters Regs { get; } = new();
    public HostState Host { get; } = new(HostCr0, PageTables, HostCr4, Efer.LME | Efer.LMA, CodeSelector, DataSelector, TssSelector,
        TssAddress, GdtAddress, IdtAddress, HostStack, HostCode);

    public NovaVmxMachine()
    {
        WriteTables();
        Cpu = new Processor(Memory, new TestBus(), 0);
        Vmx = new VmxUnit(Cpu, new VmcsRegistry());
        StartHost();
        Cpu.HostOwned = true;
        Assert.AreEqual(VmxResult.Succeed, NovaVmcs.Vmxon(Vmx, Memory, VmxonRegion));
        Assert.AreEqual(VmxResult.Succeed, NovaVmcs.Create(Vmx, Memory, Regs, Pages, Host, EptPml4, vpid: 1));
        Assert.AreEqual(VmxResult.Succeed, Vmx.Vmptrld(Pages.Vmcs));
        FillUtcb();
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

    public ulong Read(VmcsField field)
    {
        Assert.AreEqual(VmxResult.Succeed, Vmx.Vmread(field, out var value), field.ToString());
        return value;
    }

    public void Write(VmcsField field, ulong value) => Assert.AreEqual(VmxResult.Succeed, Vmx.Vmwrite(field, value), field.ToString());

    public void Code(Action<Assembler> build) => Memory.WriteBytes(GuestCode, IcedAssembly.Assemble(64, GuestCode, build));

    private void WriteTables()
    {
        Memory.Write(GdtAddress, 8, 0);
        Memory.Write(GdtAddress + 0x08, 8, 0x00AF9B000000FFFFUL);
        Memory.Write(GdtAddress + 0x10, 8, 0x00CF93000000FFFFUL);
        Memory.Write(GdtAddress + 0x18, 8, 0x0000890000000067UL | ((TssAddress & 0xFFFFFF) << 16));
        Memory.Write(GdtAddress + 0x20, 8, 0);
        for (var v = 0UL; v < 256; v++)
        {
            var stub = StubAddress + v * 4;
            Memory.Write(stub, 1, 0xF4);
            Memory.Write(IdtAddress + v * 16, 8, (stub & 0xFFFF) | ((ulong)CodeSelector << 16) | (0x8EUL << 40) | ((stub >> 16 & 0xFFFF) << 48));
            Memory.Write(IdtAddress + v * 16 + 8, 8, 0);
        }
        Memory.Write(HostCode, 1, 0xF4);
        Memory.Write(PageTables, 8, (PageTables + 0x1000) | 7);
        Memory.Write(PageTables + 0x1000, 8, (PageTables + 0x2000) | 7);
        for (ulong i = 0; i < 512; i++) Memory.Write(PageTables + 0x2000 + i * 8, 8, (i << 21) | 0x87);
        // EPT: PML4 → PDPT → one PD of 2-MiB pages, read/write/execute, write-back.
        Memory.Write(EptPml4, 8, (EptPml4 + 0x1000) | 7);
        Memory.Write(EptPml4 + 0x1000, 8, (EptPml4 + 0x2000) | 7);
        for (ulong i = 0; i < 16; i++)
            if (i << 21 != EptHole) Memory.Write(EptPml4 + 0x2000 + i * 8, 8, (i << 21) | 1 << 7 | 6 << 3 | 7);
    }

    private void StartHost()
    {
        Cpu.LoadControlState(HostCr0, PageTables, HostCr4, Efer.LME | Efer.LMA);
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = CodeSelector, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = DataSelector, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        Cpu.Gdtr = new DescriptorTableRegister { Base = GdtAddress, Limit = 0x27 };
        Cpu.Idtr = new DescriptorTableRegister { Base = IdtAddress, Limit = 0xFFF };
        Cpu.Tr = new SegmentRegister { Selector = TssSelector, Base = TssAddress, Limit = 0x67, Attributes = 0x8B };
        Cpu.Rip = HostCode;
        Cpu.Rsp = HostStack;
        Cpu.FeatureControl = 5;
    }

    public void Dispose()
    {
        Cpu.Dispose();
        Memory.Dispose();
    }
}
