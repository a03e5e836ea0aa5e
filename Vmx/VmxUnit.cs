using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Timing;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;
using Sim.Vmx.Ept;

namespace Sim.Vmx;

/// <summary>
/// The VMX unit of one physical processor (SDM vol. 3, chapters 24–31): VMX root and non-root
/// operation, the VMCS, the VMX instructions, VM entries with their checks, VM exits, EPT and
/// VPID. Guest code reaches it through the VMX instructions, host software written in C# through
/// the instruction methods (<see cref="Vmxon"/>, <see cref="Vmptrld"/>, <see cref="Vmwrite(VmcsField, ulong)"/> ...).
/// </summary>
public sealed partial class VmxUnit : IVirtualizationHooks
{
    /// <summary>CPUID.01H:ECX.VMX.</summary>
    public const uint CpuidVmxBit = 1u << 5;

    private readonly Processor _cpu;
    private readonly VmcsRegistry _registry;
    private readonly PhysicalMemory _memory;
    private readonly TranslationTagTable _tags;
    private readonly EptTranslator _ept;

    /// <summary>VMCSs active on this processor (current or not), each with its working copy.</summary>
    private readonly List<Vmcs> _active = new();

    private Vmcs? _current;
    private ulong _vmxonPointer;

    public VmxUnit(Processor cpu, VmcsRegistry registry)
    {
        _cpu = cpu;
        _registry = registry;
        _memory = cpu.Memory;
        _tags = new TranslationTagTable(cpu);
        _ept = new EptTranslator(cpu.Memory);
        cpu.Hooks = this;
        cpu.ExtraFeatureEcx |= CpuidVmxBit;
        cpu.VmxSupported = true;
    }

    public Processor Processor => _cpu;

    private bool _inVmxOperation;
    private bool _inNonRootOperation;

    /// <summary>After VMXON, until VMXOFF.</summary>
    public bool InVmxOperation
    {
        get => _inVmxOperation;
        private set
        {
            _inVmxOperation = value;
            _cpu.InitBlocked = value && !_inNonRootOperation;
        }
    }

    /// <summary>Between a successful VM entry and the next VM exit.</summary>
    public bool InNonRootOperation
    {
        get => _inNonRootOperation;
        private set
        {
            _inNonRootOperation = value;
            _cpu.InVmxNonRootOperation = value;
            // INIT is blocked in VMX root operation and causes a VM exit in non-root operation (SDM vol. 3, 24.8, 26.2).
            _cpu.InitBlocked = _inVmxOperation && !value;
        }
    }

    /// <summary>The current VMCS, or null when the current-VMCS pointer is FFFFFFFF_FFFFFFFFH.</summary>
    public Vmcs? CurrentVmcs => _current;

    /// <summary>The EPT translator attached as the processor's second level while "enable EPT" is set.</summary>
    public EptTranslator EptTranslator => _ept;

    /// <summary>The modeled cycles charged for VM exits, VM entries, VMREAD and VMWRITE.</summary>
    public CostModel Costs { get; set; } = CostModel.Default;

    /// <summary>VM exits since this unit was created.</summary>
    public ulong ExitCount { get; private set; }

    /// <summary>The most recent VM exit's information.</summary>
    public VmExitInfo LastExit { get; private set; }

    public bool TryReadMsr(Processor cpu, uint index, out ulong value) => VmxCapability.TryRead(index, out value);

    /// <summary>The capability MSRs are read-only; no other MSR belongs to the unit.</summary>
    public bool TryWriteMsr(Processor cpu, uint index, ulong value) => false;

    /// <summary>The intercept being handled (its instruction, the event in delivery), kept for the exit it may cause; default outside one.</summary>
    private Intercept _intercept;

    /// <summary>The value a declined control-register write writes, as the guest/host masks leave it.</summary>
    private ulong _crWriteValue;

    public bool Intercept(Processor cpu, ref Intercept intercept)
    {
        // A VM entry emulated inside an intercept can raise another one (an injected event's fault): keep the outer.
        var outer = _intercept;
        var outerValue = _crWriteValue;
        _intercept = intercept;
        _crWriteValue = intercept.ControlRegisterWrite.Value;
        var handled = InNonRootOperation ? NonRootIntercept(in intercept) : intercept.Kind switch
        {
            InterceptKind.VirtualizationInstruction => ExecuteGuestInstruction(intercept.VirtualizationInstruction),
            InterceptKind.CrWrite => RootCrWrite(intercept.ControlRegisterWrite),
            InterceptKind.Exception => DropSingleStep(intercept.Exception.Vector),
            _ => false,
        };
        if (intercept.Kind == InterceptKind.CrWrite) intercept.ControlRegisterWrite = intercept.ControlRegisterWrite with { Value = _crWriteValue };
        _intercept = outer;
        _crWriteValue = outerValue;
        return handled;
    }

    /// <summary>In VMX operation CR0 and CR4 keep their fixed bits (SDM vol. 3, 24.8): MOV to CR that would change them raises #GP(0).</summary>
    private bool RootCrWrite(ControlRegisterWrite write)
    {
        if (!InVmxOperation) return false;
        var value = write.Value;
        if (write.Register == 0 && write.Source != ControlRegisterWriteSource.Clts && !VmxCapability.Cr0Allowed(value)) return Fault(ExceptionVector.GP);
        if (write.Register == 4 && !VmxCapability.Cr4Allowed(value)) return Fault(ExceptionVector.GP);
        return false;
    }

    private bool Fault(int vector, uint error = 0)
    {
        _cpu.RaiseException(vector, error);
        return true;
    }

    private static bool IsValidPhysicalAddress(ulong pa) => (pa >> Processor.MaxPhysicalAddressBits) == 0;
}
