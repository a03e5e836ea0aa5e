using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// A guest that takes one event per turn of a short loop, on a bare processor in real mode (16),
/// 32-bit protected mode with paging (32) or 64-bit mode (64): #UD from UD2 and #GP from a load past
/// the segment limit or at a non-canonical address (handlers skip the instruction), INT 30h,
/// #PF from a load from a not-present page (the handler skips it and pops the error code), or an
/// external interrupt that the interrupt source asserts again as soon as it is acknowledged. The
/// handler counts in EBX; the unit of the exception benchmarks. The stack lies on a page of its own,
/// or on the page of the code as in a boot sector whose stack grows down below it, so that the
/// frames pushed land next to cached code.
/// </summary>
public sealed class ExceptionWorkload : IDisposable
{
    public enum Event { UndefinedOpcode, SoftwareInterrupt, PageFault, GeneralProtection, ExternalInterrupt }

    private const ulong Gdt = 0x1000, Idt = 0x2000, Code = 0x10000, Handler = 0x10800, Tables = 0x100000;
    private const ulong Unmapped = 0x40000000;
    private const int SoftwareVector = 0x30, ExternalVector = 0x20;
    private readonly PhysicalMemory _memory = new(32 << 20);
    private readonly Processor _cpu;
    private readonly RepeatingInterruptSource _source = new();

    public ExceptionWorkload(int bitness, Event kind, bool stackOnCodePage = false)
    {
        Bitness = bitness;
        Kind = kind;
        StackOnCodePage = stackOnCodePage;
        if (bitness == 16 && kind == Event.PageFault) throw new ArgumentException("real mode has no paging", nameof(kind));
        _cpu = new Processor(_memory, new NullBus()) { InterruptSource = _source };
        _memory.WriteBytes(Code, Assemble(bitness, bitness == 16 ? 0 : Code, EmitLoop));
        _memory.WriteBytes(Handler, Assemble(bitness, bitness == 16 ? Handler - Code : Handler, EmitHandler));
        Start();
    }

    public int Bitness { get; }

    public Event Kind { get; }

    public bool StackOnCodePage { get; }

    /// <summary>The vector the workload's events arrive at.</summary>
    public int Vector => Kind switch
    {
        Event.UndefinedOpcode => ExceptionVector.UD,
        Event.SoftwareInterrupt => SoftwareVector,
        Event.PageFault => ExceptionVector.PF,
        Event.GeneralProtection => ExceptionVector.GP,
        _ => ExternalVector,
    };

    private bool HasErrorCode => Bitness != 16 && Kind is Event.PageFault or Event.GeneralProtection;

    private sealed class NullBus : IIoBus
    {
        public uint Read(ushort port, int size) => 0xFFFFFFFF;
        public void Write(ushort port, int size, uint value) { }
    }

    /// <summary>INTR asserted until <see cref="Remaining"/> interrupts have been acknowledged.</summary>
    private sealed class RepeatingInterruptSource : IInterruptSource
    {
        public int Remaining;

        public bool InterruptPending => Remaining > 0;

        public byte Acknowledge()
        {
            Remaining--;
            return ExternalVector;
        }
    }

    private static byte[] Assemble(int bitness, ulong address, Action<Assembler> build)
    {
        var a = new Assembler(bitness);
        build(a);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }

    /// <summary>
    /// ECX turns of the event's instruction (two bytes long, so that a handler skips it alike); EBX
    /// counts the handler's entries. Real mode uses the 32-bit registers too, for counts above 64 Ki.
    /// </summary>
    private void EmitLoop(Assembler a)
    {
        var top = a.CreateLabel();
        var wait = a.CreateLabel();
        if (Kind == Event.ExternalInterrupt)
        {
            // The source interrupts every instruction boundary until it has delivered ECX interrupts.
            a.Label(ref wait);
            a.cmp(ebx, ecx);
            a.jb(wait);
            a.hlt();
            return;
        }
        a.Label(ref top);
        switch (Kind)
        {
            case Event.UndefinedOpcode: a.ud2(); break;
            case Event.SoftwareInterrupt: a.@int(SoftwareVector); break;
            default:
                if (Bitness == 16) a.mov(ax, __word_ptr[si]);
                else if (Bitness == 32) a.mov(eax, __dword_ptr[edi]);
                else a.mov(eax, __dword_ptr[rdi]);
                break;
        }
        a.dec(ecx);
        a.jnz(top);
        a.hlt();
    }

    private void EmitHandler(Assembler a)
    {
        var skip = Kind is not (Event.SoftwareInterrupt or Event.ExternalInterrupt);
        if (Bitness == 16)
        {
            a.inc(ebx);
            if (skip)
            {
                a.mov(bp, sp);
                a.add(__word_ptr[bp], 2);
            }
            a.iret();
        }
        else if (Bitness == 32)
        {
            a.inc(ebx);
            if (skip) a.add(__dword_ptr[esp + (HasErrorCode ? 4 : 0)], 2);
            if (HasErrorCode) a.add(esp, 4);
            a.iretd();
        }
        else
        {
            a.inc(ebx);
            if (skip) a.add(__qword_ptr[rsp + (HasErrorCode ? 8 : 0)], 2);
            if (HasErrorCode) a.add(rsp, 8);
            a.iretq();
        }
    }

    private void Start()
    {
        _cpu.Reset();
        var m = _memory;
        if (Bitness == 16)
        {
            m.Write((ulong)Vector * 4, 4, ((Code >> 4) << 16) | (Handler - Code));
            _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = (ushort)(Code >> 4), Base = Code, Limit = 0xFFFF, Attributes = 0x9B });
            var ss = StackOnCodePage ? Code : 0;
            _cpu.SetSegment(SegmentIndex.SS, new SegmentRegister { Selector = (ushort)(ss >> 4), Base = ss, Limit = 0xFFFF, Attributes = 0x93 });
            _cpu.Idtr = new DescriptorTableRegister { Base = 0, Limit = 0x3FF };
            _cpu.Rsp = StackOnCodePage ? 0x1000UL : 0x8000;
            _cpu.Flags |= Rflags.IF;
            return;
        }
        m.Write(Gdt + 0x08, 8, Bitness == 64 ? 0x00AF9B000000FFFFUL : 0x00CF9B000000FFFFUL);
        m.Write(Gdt + 0x10, 8, 0x00CF93000000FFFFUL);
        _cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x17 };
        // An interrupt gate (type 0Eh, present, DPL 3 so that INT n is allowed from any CPL) to the handler.
        var gate = (Handler & 0xFFFF) | (0x08UL << 16) | (0xEEUL << 40) | ((Handler >> 16 & 0xFFFF) << 48);
        if (Bitness == 64)
        {
            m.Write(Idt + (ulong)Vector * 16, 8, gate);
            m.Write(Idt + (ulong)Vector * 16 + 8, 8, 0);
            m.Write(Tables, 8, (Tables + 0x1000) | 7);
            m.Write(Tables + 0x1000, 8, (Tables + 0x2000) | 7);
            for (ulong i = 0; i < 512; i++) m.Write(Tables + 0x2000 + i * 8, 8, (i << 21) | 0x87);
            _cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, Tables, Cr4.PAE, Efer.LME);
        }
        else
        {
            m.Write(Idt + (ulong)Vector * 8, 8, gate);
            for (ulong i = 0; i < 8; i++) m.Write(Tables + i * 4, 4, (i << 22) | 0x87);
            _cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, Tables, Cr4.PSE, 0);
        }
        _cpu.Idtr = new DescriptorTableRegister { Base = Idt, Limit = (ushort)(Bitness == 64 ? 0xFFF : 0x7FF) };
        _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 8, Limit = 0xFFFFFFFF, Attributes = Bitness == 64 ? 0xA09Bu : 0xC09Bu });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            _cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        _cpu.Rsp = StackOnCodePage ? Code + 0x1000 : 0x80000;
        _cpu.Flags |= Rflags.IF;
    }

    /// <summary>Runs the loop until its handler has been entered <paramref name="events"/> times; returns the instructions retired.</summary>
    public ulong Run(int events)
    {
        _cpu.Activity = ActivityState.Active;
        _cpu.Rip = Bitness == 16 ? 0 : Code;
        _cpu.Rcx = (ulong)events;
        _cpu.Rbx = 0;
        // A load across the segment limit (real and 32-bit mode) or at a non-canonical address; a not-present page.
        var address = Kind == Event.GeneralProtection ? Bitness == 16 ? 0xFFFFUL : Bitness == 32 ? 0xFFFFFFFEUL : 0x8000_0000_0000_0000UL : Unmapped;
        _cpu.Rsi = address;
        _cpu.Rdi = address;
        if (Kind == Event.ExternalInterrupt) _source.Remaining = events;
        var before = _cpu.InstructionsRetired;
        var stop = _cpu.Run(_cpu.Cycles + (ulong)events * 16 + 1000);
        var handled = _cpu.Rbx & 0xFFFFFFFF;
        if (stop != StopReason.Halted || handled != (ulong)events)
            throw new InvalidOperationException($"{Bitness}-bit {Kind} workload: {stop} at RIP {_cpu.Rip:x} after {handled} of {events} events");
        return _cpu.InstructionsRetired - before;
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }
}
