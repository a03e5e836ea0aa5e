namespace Sim.Cpu;

/// <summary>The values of the model-specific registers that are state of their own (SDM vol. 4); RDMSR and WRMSR are in Instructions/Processor.Msr.cs.</summary>
public sealed unsafe partial class Processor
{
    public ulong SysenterCs;
    public ulong SysenterEsp;
    public ulong SysenterEip;
    public ulong Star;
    public ulong Lstar;
    public ulong Cstar;
    public ulong Fmask;
    public ulong KernelGsBase;
    public ulong TscAux;
    public ulong Pat;
    public ulong ApicBase;
    public ulong FeatureControl;
    public ulong MiscEnable;

    /// <summary>IA32_DEBUGCTL (AMD's DebugCtl): LBR and BTF are stored; no branch record is kept and BTF does not change single-stepping.</summary>
    public ulong DebugCtl;
    private ulong _mtrrDefType;
    private readonly ulong[] _mtrrFixed = new ulong[11];
    private readonly ulong[] _mtrrVariable = new ulong[16];
}
