using Sim.Cpu;
using Sim.Cpu.Virtualization;
using Sim.Vmx.Ept;

namespace Sim.Vmx.Tests;

/// <summary>
/// A minimal unit for EPT guest tests: records each SecondLevelFault intercept with the translator's
/// fault and the guest RIP, lets the test repair the EPT, and resumes the guest at the same instruction.
/// </summary>
internal sealed class EptRecordingHooks(EptTranslator translator, Action<EptFault> repair) : IVirtualizationHooks
{
    public List<(EptFault Fault, ulong Rip)> Faults { get; } = new();

    public List<InterceptKind> OtherIntercepts { get; } = new();

    public bool Intercept(Processor cpu, ref Intercept intercept)
    {
        if (intercept.Kind != InterceptKind.SecondLevelFault)
        {
            OtherIntercepts.Add(intercept.Kind);
            return false;
        }
        Faults.Add((translator.LastFault, cpu.Rip));
        // The refused instruction did not happen; a guard stops a test whose repair does not help.
        if (Faults.Count > 64) cpu.RequestStop();
        else repair(translator.LastFault);
        return true;
    }

    public bool TryReadMsr(Processor cpu, uint index, out ulong value)
    {
        value = 0;
        return false;
    }

    public bool TryWriteMsr(Processor cpu, uint index, ulong value) => false;
}
