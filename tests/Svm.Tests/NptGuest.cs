using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Svm.Npt;

namespace Sim.Svm.Tests;

/// <summary>
/// A bare processor whose guest-physical memory is host-physical memory shifted by
/// <see cref="Offset"/> through nested page tables that <see cref="NptHooks"/> fills on demand.
/// </summary>
internal sealed class NptGuest : IDisposable
{
    /// <summary>Guest-physical g lives at host-physical g + Offset.</summary>
    public const ulong Offset = 0x400000;
    public const ulong NestedPool = 0xC00000;

    public NptGuest()
    {
        Memory = new PhysicalMemory(16 << 20);
        Bus = new TestBus();
        Cpu = new Processor(Memory, Bus);
        Tables = new NptTables(Memory, NestedPool);
        Npt = new NestedPageTranslator(Memory) { NCr3 = Tables.Root };
        Npt.SetHostPagingMode(Cr0.PE | Cr0.PG, Cr4.PAE, Efer.LME | Efer.LMA | Efer.NXE);
        Hooks = new NptHooks(Npt, Tables, Offset);
        Recorder = new NptRecordingTranslator(Npt);
    }

    public PhysicalMemory Memory { get; }
    public TestBus Bus { get; }
    public Processor Cpu { get; }
    public NptTables Tables { get; }
    public NestedPageTranslator Npt { get; }
    public NptHooks Hooks { get; }

    /// <summary>The processor's second level: the translator behind a recorder of each access.</summary>
    public NptRecordingTranslator Recorder { get; }

    public static byte[] Assemble(int bitness, ulong address, Action<Assembler> build) => IcedAssembly.Assemble(bitness, address, build);

    /// <summary>Writes guest-physical memory (at its host-physical place).</summary>
    public void WriteGuest(ulong gpa, int size, ulong value) => Memory.Write(gpa + Offset, size, value);

    public ulong ReadGuest(ulong gpa, int size) => Memory.Read(gpa + Offset, size);

    public void Code(int bitness, ulong gpa, Action<Assembler> build) => Memory.WriteBytes(gpa + Offset, Assemble(bitness, gpa, build));

    /// <summary>Attaches the translator and the hooks, as VMRUN with nested paging does; guest TLB entries get tag 1.</summary>
    public void Attach()
    {
        Cpu.Hooks = Hooks;
        Cpu.SecondLevel = Recorder;
        Cpu.TranslationTag = 1;
    }

    /// <summary>
    /// 64-bit mode with guest tables at guest-physical 0x100000 (PML4), 0x101000, 0x102000 and the
    /// page table 0x103000 mapping the first 2 MiB with 4-KiB pages.
    /// </summary>
    public void StartLong(ulong rip)
    {
        WriteGuest(0x100000, 8, 0x101000 | 7);
        WriteGuest(0x101000, 8, 0x102000 | 7);
        WriteGuest(0x102000, 8, 0x103000 | 7);
        for (ulong i = 0; i < 512; i++) WriteGuest(0x103000 + i * 8, 8, (i << 12) | 7);
        Attach();
        Cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, 0x100000, Cr4.PAE, Efer.LME | Efer.NXE);
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        Cpu.Rip = rip;
        Cpu.Rsp = 0x80000;
    }

    /// <summary>Real mode at 0000:<paramref name="ip"/>.</summary>
    public void StartReal(ulong ip)
    {
        Attach();
        Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x9B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            Cpu.SetSegment(s, new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x93 });
        Cpu.Rip = ip;
        Cpu.Rsp = 0x8000;
    }

    public StopReason Run(ulong cycles = 100_000) => Cpu.Run(Cpu.Cycles + cycles);

    public void Dispose()
    {
        Cpu.Dispose();
        Memory.Dispose();
    }
}
