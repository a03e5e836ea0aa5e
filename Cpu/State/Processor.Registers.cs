using System.Runtime.InteropServices;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>The architectural registers (SDM vol. 1, 3.4; vol. 3, 2.4–2.5): general-purpose registers, RIP, segment registers, control registers, EFER, the descriptor-table registers and CPL. RFLAGS is in Processor.Flags.</summary>
public sealed unsafe partial class Processor
{
    public const int RegisterCount = 16;
    private readonly ulong* _r;
    private readonly SegmentRegister[] _seg = new SegmentRegister[6];
    public ulong Rip;
    public ulong Cr2;

    public ulong Cr3 { get; private set; }

    public ulong Cr0 { get; private set; }

    public ulong Cr4 { get; private set; }

    public ulong Efer { get; private set; }

    public DescriptorTableRegister Gdtr;
    public DescriptorTableRegister Idtr;
    public SegmentRegister Ldtr;
    public SegmentRegister Tr;

    /// <summary>The time-stamp counter offset: TSC reads as <see cref="Cycles"/> plus this.</summary>
    public long TscOffset;

    /// <summary>Current privilege level (CS.DPL in protected mode; 3 in virtual-8086 mode; 0 in real mode).</summary>
    public int Cpl { get; private set; }

    public ulong GetGpr(int index) => _r[index];

    public void SetGpr(int index, ulong value) => _r[index] = value;

    public ulong Rax { get => _r[0]; set => _r[0] = value; }

    public ulong Rcx { get => _r[1]; set => _r[1] = value; }

    public ulong Rdx { get => _r[2]; set => _r[2] = value; }

    public ulong Rbx { get => _r[3]; set => _r[3] = value; }

    public ulong Rsp { get => _r[4]; set => _r[4] = value; }

    public ulong Rbp { get => _r[5]; set => _r[5] = value; }

    public ulong Rsi { get => _r[6]; set => _r[6] = value; }

    public ulong Rdi { get => _r[7]; set => _r[7] = value; }

    public SegmentRegister GetSegment(SegmentIndex index) => _seg[(int)index];

    /// <summary>Loads a segment register's visible and hidden parts as given, without descriptor checks (for loaders and VM entry).</summary>
    public void SetSegment(SegmentIndex index, SegmentRegister value)
    {
        _seg[(int)index] = value;
        SegmentChanged((int)index);
    }

    public bool InLongMode => (Efer & Registers.Efer.LMA) != 0;

    public bool InProtectedMode => (Cr0 & Registers.Cr0.PE) != 0;

    /// <summary>Virtual-8086 mode: RFLAGS.VM in legacy protected mode; in IA-32e mode RFLAGS.VM has no effect (SDM vol. 3, 20.1; AMD APM vol. 2, 8.4).</summary>
    public bool InVirtual8086Mode => (_flags & Rflags.VM) != 0 && (Efer & Registers.Efer.LMA) == 0;

    /// <summary>The code size the processor decodes with now: 16, 32 or 64.</summary>
    public int CodeBitness => _bitness;

    /// <summary>CR8: the task-priority register as seen through MOV CR8 (bits 3:0).</summary>
    /// <summary>
    /// CR8: <see cref="VirtualTpr"/> while a unit virtualizes it, else the local APIC's TPR[7:4] when the
    /// processor has one (SDM vol. 3, 11.8.6.1), else a plain register.
    /// </summary>
    public ulong Cr8
    {
        get => _virtualTpr ?? (_localApic is { } apic ? (ulong)(apic.TaskPriority >> 4) : _cr8);
        set
        {
            if (_virtualTpr != null) _virtualTpr = value & 0xF;
            else if (_localApic is { } apic) apic.TaskPriority = (byte)((value & 0xF) << 4);
            else _cr8 = value;
        }
    }

    private ulong _cr8;

    /// <summary>
    /// While not null, CR8 reads and writes this value and the local APIC's TPR stays as it is: SVM's
    /// V_INTR_MASKING, under which a guest's CR8 is V_TPR (AMD APM vol. 2, 15.21.2).
    /// </summary>
    public ulong? VirtualTpr
    {
        get => _virtualTpr;
        set => _virtualTpr = value & 0xF;
    }

    private ulong? _virtualTpr;
    private readonly ulong[] _dr = new ulong[8];

    public ulong GetDebugRegister(int n) => _dr[n];

    public void SetDebugRegister(int n, ulong value)
    {
        _dr[n] = value;
        if (n != 6) BreakpointsChanged();
    }
}
