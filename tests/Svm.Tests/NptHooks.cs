using Sim.Cpu;
using Sim.Cpu.Virtualization;
using Sim.Svm.Npt;

namespace Sim.Svm.Tests;

/// <summary>
/// Stands in for the SVM unit's #VMEXIT(NPF): records each SecondLevelFault intercept with the
/// translator's EXITINFO1/EXITINFO2, then resolves it the way a hypervisor would and resumes: a
/// not-present page is mapped (writable when the access was a write), a write-protected page is
/// made writable.
/// </summary>
internal sealed class NptHooks(NestedPageTranslator npt, NptTables tables, ulong offset) : IVirtualizationHooks
{
    public List<NestedPageFault> Faults { get; } = new();

    public List<InterceptKind> Kinds { get; } = new();

    public bool Intercept(Processor cpu, ref Intercept intercept)
    {
        Kinds.Add(intercept.Kind);
        if (intercept.Kind != InterceptKind.SecondLevelFault) return false;
        var fault = npt.LastFault;
        Faults.Add(fault);
        var page = fault.ExitInfo2 & ~0xFFFUL;
        var write = (fault.ExitInfo1 & 2) != 0;
        if ((fault.ExitInfo1 & 1) == 0) tables.Map4K(page, page + offset, write ? NptTables.Rwu : NptTables.P | NptTables.US);
        else tables.SetEntry(page, 1, tables.Entry(page, 1) | NptTables.RW);
        cpu.FlushTranslationTag(cpu.TranslationTag);
        return true;
    }

    public bool TryReadMsr(Processor cpu, uint index, out ulong value)
    {
        value = 0;
        return false;
    }

    public bool TryWriteMsr(Processor cpu, uint index, ulong value) => false;
}
