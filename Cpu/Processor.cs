using System.Runtime.InteropServices;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>
/// One x86-64 logical processor: its architectural state and the interpreter that runs it over
/// decoded, cached blocks. It reaches the rest of the machine only through <see cref="PhysicalMemory"/>,
/// <see cref="IIoBus"/>, <see cref="IInterruptSource"/> and, when a virtualization unit is attached,
/// <see cref="IVirtualizationHooks"/>.
/// </summary>
public sealed unsafe partial class Processor : IDisposable
{
    private readonly PhysicalMemory _memory;
    private readonly IIoBus _io;
    private bool _disposed;

    public Processor(PhysicalMemory memory, IIoBus io, int index = 0)
    {
        _memory = memory;
        _io = io;
        Index = index;
        _r = (ulong*)NativeMemory.AllocZeroed((nuint)(sizeof(ulong) * (RegisterCount + 4)));
        Tlb = new SoftwareTlb(memory);
        _blocks = memory.CodeCache;
        memory.Attach(this);
        Reset();
    }

    public int Index { get; }

    public PhysicalMemory Memory => _memory;

    public IIoBus Io => _io;

    /// <summary>The controller in front of INTR; null means INTR is never asserted.</summary>
    /// <summary>
    /// The processor's local APIC, or null for a core without one (the unit tests' bare processors).
    /// The machine attaches it once, before the processor runs.
    /// </summary>
    public ILocalApic? LocalApic
    {
        get => _localApic;
        set
        {
            _localApic = value;
            UpdateApicPage();
        }
    }

    private ILocalApic? _localApic;

    public IInterruptSource? InterruptSource { get; set; }

    /// <summary>The virtualization unit, if one is attached.</summary>
    public IVirtualizationHooks? Hooks { get; set; }

    internal SoftwareTlb Tlb { get; }

    /// <summary>This processor's clock in cycles.</summary>
    public ulong Cycles { get; set; }

    public ulong InstructionsRetired { get; private set; }

    /// <summary>Faults and traps taken, each of which retires no instruction: a guest can take them without end (a handler that faults at once).</summary>
    public ulong ExceptionsDelivered { get; private set; }

    public ActivityState Activity { get; set; }

    /// <summary>
    /// Loads CR0, CR3, CR4 and EFER as given (EFER.LMA follows CR0.PG and EFER.LME), without the
    /// checks of MOV CR; for loaders that start a guest in protected or long mode and for VM entry.
    /// </summary>
    public void LoadControlState(ulong cr0, ulong cr3, ulong cr4, ulong efer) => LoadControlState(cr0, cr3, cr4, efer, flush: true);

    /// <summary>
    /// As <see cref="LoadControlState(ulong, ulong, ulong, ulong)"/>; with <paramref name="flush"/>
    /// false the cached translations stay, for a unit that switches <see cref="TranslationTag"/> at
    /// the same time and knows the new tag's entries are still valid (VPID, ASID). With a
    /// <see cref="SecondLevel"/> translator attached the PDPTEs are not read: the unit loads them
    /// with <see cref="LoadPdptes"/>.
    /// </summary>
    public void LoadControlState(ulong cr0, ulong cr3, ulong cr4, ulong efer, bool flush)
    {
        Cr0 = cr0 | Registers.Cr0.ET;
        Cr3 = cr3;
        Cr4 = cr4;
        if ((cr0 & Registers.Cr0.PG) != 0 && (efer & Registers.Efer.LME) != 0) efer |= Registers.Efer.LMA;
        else efer &= ~Registers.Efer.LMA;
        Efer = efer;
        UpdateTlbContext();
        BreakpointsChanged();
        if (PaePaging(Cr0, Cr4, Efer) && _secondLevel == null) TryLoadPdptes(cr3);
        if (flush) FlushTranslations();
        _stopBlock = true;
        AllSegmentsChanged();
    }

    /// <summary>Puts the processor in its power-up state (SDM vol. 3, table 9-1).</summary>
    public void Reset() => Reset(init: false);

    /// <summary>
    /// The response to INIT (SDM vol. 3, 9.1): the power-up state, except that the MSRs and CR0.CD/NW
    /// keep their values; the bootstrap processor then starts at FFFF:FFF0, any other waits for a SIPI.
    /// </summary>
    public void Init()
    {
        var cacheControl = Cr0 & (Registers.Cr0.CD | Registers.Cr0.NW);
        var sipi = _sipiVector;
        Reset(init: true);
        _sipiVector = sipi;
        Cr0 = Registers.Cr0.ET | cacheControl;
        _localApic?.Init();
        if ((ApicBase & ApicBaseBsp) == 0) Activity = ActivityState.WaitForSipi;
    }

    /// <summary>IA32_APIC_BASE.BSP: this processor is the bootstrap processor.</summary>
    private const ulong ApicBaseBsp = 1UL << 8;

    private void Reset(bool init)
    {
        for (var i = 0; i < RegisterCount; i++) _r[i] = 0;
        _r[2] = 0x600;
        Rip = 0xFFF0;
        _flags = Rflags.Reserved1;
        _lazyMask = 0;
        Cr0 = Registers.Cr0.ET | Registers.Cr0.CD | Registers.Cr0.NW;
        Cr2 = 0;
        Cr3 = 0;
        Cr4 = 0;
        Efer = 0;
        for (var i = 0; i < 6; i++)
            _seg[i] = new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x93 };
        _seg[(int)SegmentIndex.CS] = new SegmentRegister { Selector = 0xF000, Base = 0xFFFF0000, Limit = 0xFFFF, Attributes = 0x9B };
        Gdtr = new DescriptorTableRegister { Base = 0, Limit = 0xFFFF };
        Idtr = new DescriptorTableRegister { Base = 0, Limit = 0xFFFF };
        Ldtr = new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x82 };
        Tr = new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x8B };
        for (var i = 0; i < 8; i++) _dr[i] = 0;
        _dr[6] = 0xFFFF0FF0;
        _pendingDebugStatus = 0;
        _dr[7] = 0x400;
        _debugTrapStatus = 0;
        BreakpointsChanged();
        Activity = ActivityState.Active;
        _interruptShadow = false;
        _shadowByMovSs = false;
        _nmiPending = false;
        _nmiBlocked = false;
        _pendingVector = -1;
        _initPending = false;
        _sipiVector = -1;
        ResetXsaveTracking();
        if (!init)
        {
            ResetMsrs();
            ResetFpuState();
            ResetRandomNumbers();
        }
        UpdateTlbContext();
        FlushTranslations();
        // The segment-check cache too: a fetch at the reset vector must see CS.base = FFFF0000h, not the old base.
        AllSegmentsChanged();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMemory.Free(_r);
        NativeMemory.Free(_segCheck);
        NativeMemory.Free(_vectorRegisters);
        Tlb.Dispose();
        GC.SuppressFinalize(this);
    }

    ~Processor()
    {
        if (_disposed) return;
        NativeMemory.Free(_r);
        NativeMemory.Free(_segCheck);
        NativeMemory.Free(_vectorRegisters);
    }
}
