using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests.TestDoubles;

public sealed class FakeRamDataspace(ulong cap, ulong size, bool writeable = true, bool managed = false) : IRamDataspace
{
    private readonly byte[] _bytes = new byte[size];

    public DataspaceCapability Cap { get; internal set; } = new(cap);

    public ulong Size { get; } = size;

    public bool Writeable { get; } = writeable;

    public bool Managed { get; } = managed;

    public bool Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset > Size || (ulong)data.Length > Size - offset)
            return false;
        data.CopyTo(_bytes.AsSpan((int)offset));
        return true;
    }

    public bool Read(ulong offset, Span<byte> data)
    {
        if (offset > Size || (ulong)data.Length > Size - offset)
            return false;
        _bytes.AsSpan((int)offset, data.Length).CopyTo(data);
        return true;
    }
}
