using Iced.Intel;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Cpu.Tests;

/// <summary>Assembles a guest with Iced, places it in a fresh machine of one processor and runs it.</summary>
internal sealed class GuestRunner : IDisposable
{
    public const ulong CodeAddress = 0x10000;

    public GuestRunner(ulong memory = 16 << 20)
    {
        Memory = new PhysicalMemory(memory);
        Bus = new TestBus();
        Cpu = new Processor(Memory, Bus);
        Bus.Cpu = Cpu;
    }

    public PhysicalMemory Memory { get; }
    public TestBus Bus { get; }
    public Processor Cpu { get; }

    public static byte[] Assemble(int bitness, ulong address, Action<Assembler> build) => IcedAssembly.Assemble(bitness, address, build);

    public void Load(ulong address, byte[] code) => Memory.WriteBytes(address, code);

    /// <summary>Assembles code for <paramref name="address"/> and loads it there.</summary>
    public void Code(int bitness, ulong address, Action<Assembler> build) => Load(address, Assemble(bitness, address, build));

    public const ulong GdtAddress = 0x1000;
    public const ulong IdtAddress = 0x2000;
    public const ulong TssAddress = 0x4000;
    public const ulong StubAddress = 0x30000;
    public const ushort KernelCode = 0x08, KernelData = 0x10, UserCode = 0x1B, UserData = 0x23, TssSelector = 0x28;

    /// <summary>Writes GDT entry <paramref name="index"/> and grows GDTR.limit to include it.</summary>
    public void SetGdt(int index, ulong descriptor)
    {
        Memory.Write(GdtAddress + (ulong)index * 8, 8, descriptor);
        var limit = (ushort)Math.Max(Cpu.Gdtr.Limit, index * 8 + 7);
        Cpu.Gdtr = new DescriptorTableRegister { Base = GdtAddress, Limit = limit };
    }

    public ulong GdtEntry(int index) => Memory.Read(GdtAddress + (ulong)index * 8, 8);

    /// <summary>
    /// Every vector's handler is a HLT at <see cref="StubAddress"/> + 4 * vector, reached through an
    /// interrupt gate (DPL 3, so that INT n works from any CPL) or, in real mode, the IVT.
    /// </summary>
    public void InstallIdt(int bitness)
    {
        for (var v = 0; v < 256; v++)
        {
            var stub = StubAddress + (ulong)v * 4;
            Memory.Write(stub, 1, 0xF4);
            if (bitness == 16) Memory.Write((ulong)v * 4, 4, ((StubAddress >> 4) << 16) | ((ulong)v * 4));
            else if (bitness == 32) Memory.Write(IdtAddress + (ulong)v * 8, 8, Descriptors.Gate(Descriptors.InterruptGate32, KernelCode, (uint)stub, 3));
            else
            {
                Memory.Write(IdtAddress + (ulong)v * 16, 8, Descriptors.Gate64Low(Descriptors.InterruptGate32, KernelCode, stub, 3));
                Memory.Write(IdtAddress + (ulong)v * 16 + 8, 8, 0);
            }
        }
        Cpu.Idtr = bitness == 16
            ? new DescriptorTableRegister { Base = 0, Limit = 0x3FF }
            : new DescriptorTableRegister { Base = IdtAddress, Limit = (ushort)(bitness == 32 ? 0x7FF : 0xFFF) };
    }

    public void SetIdtGate32(int vector, ulong gate) => Memory.Write(IdtAddress + (ulong)vector * 8, 8, gate);

    public void SetIdtGate64(int vector, int type, ulong offset, int dpl = 0, int ist = 0, ushort selector = KernelCode)
    {
        Memory.Write(IdtAddress + (ulong)vector * 16, 8, Descriptors.Gate64Low(type, selector, offset, dpl, ist));
        Memory.Write(IdtAddress + (ulong)vector * 16 + 8, 8, offset >> 32);
    }

    /// <summary>The vector whose HLT stub the processor stopped at, or -1.</summary>
    public int HaltedVector
    {
        get
        {
            var linear = Cpu.GetSegment(SegmentIndex.CS).Base + Cpu.Rip - 1;
            if (linear < StubAddress || linear >= StubAddress + 1024 || (linear - StubAddress) % 4 != 0) return -1;
            return (int)((linear - StubAddress) / 4);
        }
    }

    /// <summary>Runs until a HLT and returns the vector of the stub it stopped in (-1 for a HLT elsewhere).</summary>
    public int RunToVector(ulong cycles = 1_000_000)
    {
        var stop = Run(cycles);
        Assert.AreEqual(StopReason.Halted, stop, $"expected a HLT in an exception stub, RIP={Cpu.Rip:x} pending={Cpu.PendingException}");
        return HaltedVector;
    }

    public ulong Stack(int index, int size = 4) =>
        Memory.Read(Cpu.GetSegment(SegmentIndex.SS).Base + Cpu.Rsp + (ulong)(index * size), size);

    /// <summary>Adds user code and data (DPL 3) and a 32-bit TSS to the flat GDT and loads TR (SDM vol. 3, 7.2).</summary>
    public void AddUserSegmentsAndTss32(uint esp0 = 0x70000, uint tssLimit = 0x67)
    {
        SetGdt(3, Descriptors.UserCode32);
        SetGdt(4, Descriptors.UserData32);
        SetGdt(5, Descriptors.Segment((uint)TssAddress, tssLimit, 0x8B, 0));
        for (ulong i = 0; i <= tssLimit; i += 1) Memory.Write(TssAddress + i, 1, 0);
        Memory.Write(TssAddress + 4, 4, esp0);
        Memory.Write(TssAddress + 8, 2, KernelData);
        Memory.Write(TssAddress + 0x66, 2, 0x68);
        Cpu.Tr = new SegmentRegister { Selector = TssSelector, Base = TssAddress, Limit = tssLimit, Attributes = 0x8B };
    }

    /// <summary>Adds 0x18 user code32, 0x20 user data, 0x28 user code64 and a 64-bit TSS at 0x30 (SDM vol. 3, 7.7).</summary>
    public void AddUserSegmentsAndTss64(ulong rsp0 = 0x70000)
    {
        SetGdt(3, Descriptors.UserCode32);
        SetGdt(4, Descriptors.UserData32);
        SetGdt(5, Descriptors.UserCode64);
        SetGdt(6, Descriptors.Segment((uint)TssAddress, 0x67, 0x8B, 0));
        SetGdt(7, 0);
        for (ulong i = 0; i < 0x68; i += 1) Memory.Write(TssAddress + i, 1, 0);
        Memory.Write(TssAddress + 4, 8, rsp0);
        Cpu.Tr = new SegmentRegister { Selector = 0x30, Base = TssAddress, Limit = 0x67, Attributes = 0x8B };
    }

    /// <summary>Sets CS and SS (and the data segments) to the flat DPL-3 segments; CPL becomes 3.</summary>
    public void EnterUser32(ulong rip, ulong rsp)
    {
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = UserCode, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC0FB });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = UserData, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC0F3 });
        Cpu.Rip = rip;
        Cpu.Rsp = rsp;
    }

    /// <summary>Flat 32-bit protected mode with the HLT-stub IDT, user segments and a TSS; code assembled at <see cref="CodeAddress"/>.</summary>
    public static GuestRunner Protected(Action<Assembler> code)
    {
        var g = new GuestRunner();
        g.Code(32, CodeAddress, code);
        g.StartProtected(CodeAddress);
        g.InstallIdt(32);
        g.AddUserSegmentsAndTss32();
        return g;
    }

    /// <summary>64-bit mode with the HLT-stub IDT, user segments and a 64-bit TSS.</summary>
    public static GuestRunner Long(Action<Assembler> code)
    {
        var g = new GuestRunner();
        g.Code(64, CodeAddress, code);
        g.StartLong(CodeAddress);
        g.InstallIdt(64);
        g.AddUserSegmentsAndTss64();
        return g;
    }

    /// <summary>Real mode at 0000:7C00 with the HLT-stub IVT.</summary>
    public static GuestRunner Real(Action<Assembler> code)
    {
        var g = new GuestRunner();
        g.Code(16, 0x7C00, code);
        g.StartReal(0x7C00);
        g.InstallIdt(16);
        return g;
    }

    public void AssertExit(int value)
    {
        Assert.AreEqual(StopReason.StopRequested, Run(), $"RIP={Cpu.Rip:x} vector={HaltedVector} pending={Cpu.PendingException}");
        Assert.AreEqual(value, Bus.ExitValue);
    }

    /// <summary>Long mode with the paging structures of <paramref name="tables"/> instead of the identity map.</summary>
    public void StartPaged(ulong address, PageTableBuilder tables, ulong cr0Extra = 0, ulong cr4Extra = 0, ulong eferExtra = 0)
    {
        var cr4 = tables.Mode switch { PagingMode.Bits32 => Cr4.PSE, _ => Cr4.PAE } | cr4Extra;
        if (tables.Mode == PagingMode.FourLevel)
        {
            StartLong(address);
            Cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET | cr0Extra, tables.Root, cr4, Efer.LME | eferExtra);
        }
        else
        {
            StartProtected(address);
            Cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET | cr0Extra, tables.Root, cr4, eferExtra);
        }
    }

    /// <summary>Real mode at 0000:address.</summary>
    public void StartReal(ulong address)
    {
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x9B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x93 });
        Cpu.Rip = address;
        Cpu.Rsp = 0x8000;
    }

    /// <summary>Flat 32-bit protected mode (paging off), with a GDT at 0x1000: 0x08 code, 0x10 data.</summary>
    public void StartProtected(ulong address)
    {
        WriteFlatGdt(long64: false);
        Cpu.LoadControlState(Cr0.PE | Cr0.ET, 0, 0, 0);
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        Cpu.Rip = address;
        Cpu.Rsp = 0x80000;
    }

    /// <summary>64-bit mode with the first 1 GiB identity-mapped by 2 MiB pages (tables at 0x100000).</summary>
    public void StartLong(ulong address)
    {
        WriteFlatGdt(long64: true);
        const ulong pml4 = 0x100000, pdpt = 0x101000, pd = 0x102000;
        Memory.Write(pml4, 8, pdpt | 7);
        Memory.Write(pdpt, 8, pd | 7);
        for (ulong i = 0; i < 512; i++) Memory.Write(pd + i * 8, 8, (i << 21) | 0x87);
        Cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, pml4, Cr4.PAE, Efer.LME | Efer.LMA);
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        Cpu.Rip = address;
        Cpu.Rsp = 0x80000;
    }

    private void WriteFlatGdt(bool long64)
    {
        Memory.Write(0x1000, 8, 0);
        Memory.Write(0x1008, 8, long64 ? 0x00AF9B000000FFFFUL : 0x00CF9B000000FFFFUL);
        Memory.Write(0x1010, 8, 0x00CF93000000FFFFUL);
        Cpu.Gdtr = new DescriptorTableRegister { Base = 0x1000, Limit = 0x17 };
    }

    public StopReason Run(ulong cycles = 10_000_000) => Cpu.Run(Cpu.Cycles + cycles);

    public void Dispose()
    {
        Cpu.Dispose();
        Memory.Dispose();
    }
}
