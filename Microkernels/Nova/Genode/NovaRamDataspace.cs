using Sim.Cpu.Memory;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>A RAM dataspace of core's RAM service: contiguous physical pages outside kernel memory.</summary>
internal sealed class NovaRamDataspace(PhysicalMemory memory, DataspaceCapability cap, ulong physical, ulong size) : IRamDataspace
{
    public DataspaceCapability Cap { get; internal set; } = cap;

    public ulong Physical { get; } = physical;

    public ulong Size { get; } = size;

    public bool Writeable => true;

    public bool Managed => false;

    public bool Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (!Cap.IsValid || offset > Size || (ulong)data.Length > Size - offset) return false;
        memory.WriteBytes(Physical + offset, data);
        return true;
    }

    public bool Read(ulong offset, Span<byte> data)
    {
        if (!Cap.IsValid || offset > Size || (ulong)data.Length > Size - offset) return false;
        memory.ReadBytes(Physical + offset, data);
        return true;
    }
}
