using Iced.Intel;
using Sim.Cpu.Bus;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Microkernels.Kernel.PageTableBuilder;
using Event = Sim.Cpu.Tests.ExceptionLoopEvent;

namespace Sim.Cpu.Tests;

/// <summary>
/// A guest that takes one event every turn of a loop of ECX turns, in real mode (IVT), 32-bit
/// protected mode with paging or 64-bit mode (IDT, interrupt gates): #UD from UD2 and #GP from a load
/// across the segment limit or at a non-canonical address, whose handlers step over the two-byte
/// instruction; INT 30h; #PF from a load from a not-present page; or an external interrupt at every
/// instruction boundary. The handler counts its entries in EBX, keeps the last error code in EDX
/// and, for #PF, CR2 in EBP. The stack lies on a page of its own or on the code's page.
/// </summary>
internal sealed class ExceptionLoopGuest : IDisposable
{
    public const int SoftwareVector = 0x30, ExternalVector = 0x20;
    public const ulong NotPresent = 0x40000000;

    /// <summary>INTR asserted until <see cref="Remaining"/> interrupts have been acknowledged.</summary>
    public sealed class RepeatingInterruptSource : IInterruptSource
    {
        public int Remaining;

        public int Acknowledged { get; private set; }

        public bool InterruptPending => Remaining > 0;

        public byte Acknowledge()
        {
            Remaining--;
            Acknowledged++;
            return ExternalVector;
        }
    }

    public ExceptionLoopGuest(int bitness, Event kind, bool stackOnCodePage = false)
    {
        Bitness = bitness;
        Kind = kind;
        Runner = new GuestRunner();
        Loop = bitness == 16 ? 0x7C00 : GuestRunner.CodeAddress;
        Handler = Loop + 0x200;
        // On the code's page: below the boot-sector code at 7C00h, or at the top of the page of the loop and handler.
        InitialStack = stackOnCodePage ? (bitness == 16 ? Loop : Loop + 0x1000) : bitness == 16 ? 0x6000UL : 0x80000;
        var g = Runner;
        var loopCode = GuestRunner.Assemble(bitness, Loop, EmitLoop);
        LoopEnd = Loop + (ulong)loopCode.Length;
        g.Load(Loop, loopCode);
        g.Code(bitness, Handler, EmitHandler);
        if (bitness == 16)
        {
            g.StartReal(Loop);
            g.InstallIdt(16);
            g.Memory.Write((ulong)Vector * 4, 4, Handler);
        }
        else if (bitness == 32)
        {
            var tables = new PageTableBuilder(g.Memory, PagingMode.Bits32);
            tables.IdentityMap(0, 0x200000, RW);
            g.StartPaged(Loop, tables);
            g.InstallIdt(32);
            g.SetIdtGate32(Vector, Descriptors.Gate(Descriptors.InterruptGate32, GuestRunner.KernelCode, (uint)Handler, 3));
        }
        else
        {
            g.StartLong(Loop);
            g.InstallIdt(64);
            g.SetIdtGate64(Vector, Descriptors.InterruptGate32, Handler, 3);
        }
        g.Cpu.InterruptSource = Source;
        g.Cpu.Flags |= Rflags.IF;
    }

    public int Bitness { get; }

    public Event Kind { get; }

    public GuestRunner Runner { get; }

    public Processor Cpu => Runner.Cpu;

    public RepeatingInterruptSource Source { get; } = new();

    public ulong Loop { get; }

    /// <summary>The address after the loop's final HLT.</summary>
    public ulong LoopEnd { get; }

    public ulong Handler { get; }

    public ulong InitialStack { get; }

    public int Vector => Kind switch
    {
        Event.UndefinedOpcode => ExceptionVector.UD,
        Event.SoftwareInterrupt => SoftwareVector,
        Event.PageFault => ExceptionVector.PF,
        Event.GeneralProtection => ExceptionVector.GP,
        _ => ExternalVector,
    };

    /// <summary>Real mode pushes no error code (SDM vol. 3, 20.1.4).</summary>
    public bool HasErrorCode => Bitness != 16 && Kind is Event.PageFault or Event.GeneralProtection;

    /// <summary>The load's address: not present, or across the limit of DS (real and 32-bit mode), or non-canonical.</summary>
    public ulong FaultingAddress => Kind != Event.GeneralProtection ? NotPresent
        : Bitness == 16 ? 0xFFFF : Bitness == 32 ? 0xFFFFFFFE : 0x8000_0000_0000_0000;

    private void EmitLoop(Assembler a)
    {
        if (Kind == Event.ExternalInterrupt)
        {
            var wait = a.CreateLabel();
            a.Label(ref wait);
            a.cmp(ebx, ecx);
            a.jb(wait);
            a.hlt();
            return;
        }
        var top = a.CreateLabel();
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
        a.inc(ebx);
        if (Bitness == 16)
        {
            if (skip)
            {
                a.mov(bp, sp);
                a.add(__word_ptr[bp], 2);
            }
            a.iret();
        }
        else if (Bitness == 32)
        {
            if (Kind == Event.PageFault) a.mov(ebp, cr2);
            if (HasErrorCode)
            {
                a.mov(edx, __dword_ptr[esp]);
                a.add(esp, 4);
            }
            if (skip) a.add(__dword_ptr[esp], 2);
            a.iretd();
        }
        else
        {
            if (Kind == Event.PageFault) a.mov(rbp, cr2);
            if (HasErrorCode)
            {
                a.mov(rdx, __qword_ptr[rsp]);
                a.add(rsp, 8);
            }
            if (skip) a.add(__qword_ptr[rsp], 2);
            a.iretq();
        }
    }

    /// <summary>Runs the loop for <paramref name="turns"/> turns, to its HLT.</summary>
    public StopReason Run(int turns)
    {
        var cpu = Cpu;
        cpu.Activity = ActivityState.Active;
        cpu.Rip = Loop;
        cpu.Rsp = InitialStack;
        cpu.Rcx = (ulong)turns;
        cpu.Rbx = 0;
        cpu.Rdx = ulong.MaxValue;
        cpu.Rsi = cpu.Rdi = FaultingAddress;
        if (Kind == Event.ExternalInterrupt) Source.Remaining = turns;
        return cpu.Run(cpu.Cycles + (ulong)turns * 16 + 1000);
    }

    public void Dispose() => Runner.Dispose();
}
