using Sim.Cpu.Virtualization;

namespace Sim.Cpu.Tests;

/// <summary>A virtualization unit for tests: records every intercept and lets a test decide each one.</summary>
internal sealed class RecordingHooks : IVirtualizationHooks
{
    public delegate bool InterceptHandler(Processor cpu, ref Intercept intercept);

    public List<Intercept> Calls { get; } = new();

    /// <summary>Decides an intercept; null declines everything.</summary>
    public InterceptHandler? Handler { get; set; }

    public Dictionary<uint, ulong> Msrs { get; } = new();

    public bool Intercept(Processor cpu, ref Intercept intercept)
    {
        Calls.Add(intercept);
        return Handler?.Invoke(cpu, ref intercept) ?? false;
    }

    public bool TryReadMsr(Processor cpu, uint index, out ulong value) => Msrs.TryGetValue(index, out value);

    public bool TryWriteMsr(Processor cpu, uint index, ulong value)
    {
        if (!Msrs.ContainsKey(index)) return false;
        Msrs[index] = value;
        return true;
    }

    public IEnumerable<InterceptKind> Kinds => Calls.Select(c => c.Kind);
}
