using Sim.Microkernels.Kernel;

namespace Sim.Microkernels.Nova;

/// <summary>The scheduling side of a vCPU EC: its SC's time goes to its guest and to the exits it takes.</summary>
internal sealed class VcpuThread : KernelThread
{
    public VcpuThread(Ec vcpu, int priority, ulong quantum) : base(vcpu.Name, priority, quantum)
    {
        Vcpu = vcpu;
        Owner = vcpu;
        AddressSpace = vcpu.Pd;
    }

    public Ec Vcpu { get; }

    protected override void Run(ulong until) => Vcpu.RunVcpu(until);
}
