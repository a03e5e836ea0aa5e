using Sim.Cpu.Memory;

namespace Sim.Svm;

/// <summary>Reads and writes a VMCB in simulated memory at the APM offsets of <see cref="VmcbLayout"/>.</summary>
public readonly struct Vmcb(PhysicalMemory memory, ulong address)
{
    public ulong Address => address;

    public void Clear()
    {
        for (ulong i = 0; i < VmcbLayout.Size; i += 8) memory.Write(address + i, 8, 0);
    }

    public ulong Read(int offset, int size) => memory.Read(address + (ulong)offset, size);

    public void Write(int offset, int size, ulong value) => memory.Write(address + (ulong)offset, size, value);

    public void Or(int offset, int size, ulong bits) => Write(offset, size, Read(offset, size) | bits);

    public void Segment(int field, ushort selector, ushort attrib, uint limit, ulong @base)
    {
        Write(field, 2, selector);
        Write(field + 2, 2, attrib);
        Write(field + 4, 4, limit);
        Write(field + 8, 8, @base);
    }

    public void Intercept(SvmIntercept intercept) => Or(VmcbLayout.InterceptCr + 4 * ((int)intercept >> 5), 4, 1UL << ((int)intercept & 31));

    public void ClearIntercept(SvmIntercept intercept) =>
        Write(VmcbLayout.InterceptCr + 4 * ((int)intercept >> 5), 4, Read(VmcbLayout.InterceptCr + 4 * ((int)intercept >> 5), 4) & ~(1UL << ((int)intercept & 31)));

    public void InterceptException(int vector) => Or(VmcbLayout.InterceptExceptions, 4, 1UL << vector);

    public void InterceptCrRead(int cr) => Or(VmcbLayout.InterceptCr, 4, 1UL << cr);

    public void InterceptCrWrite(int cr) => Or(VmcbLayout.InterceptCr, 4, 1UL << (16 + cr));

    public void InterceptDrRead(int dr) => Or(VmcbLayout.InterceptDr, 4, 1UL << dr);

    public void InterceptDrWrite(int dr) => Or(VmcbLayout.InterceptDr, 4, 1UL << (16 + dr));

    public ulong ExitCode => Read(VmcbLayout.ExitCode, 8);
    public ulong ExitInfo1 => Read(VmcbLayout.ExitInfo1, 8);
    public ulong ExitInfo2 => Read(VmcbLayout.ExitInfo2, 8);
    public ulong ExitIntInfo => Read(VmcbLayout.ExitIntInfo, 8);
    public ulong NRip => Read(VmcbLayout.NRip, 8);
    public ulong Rip => Read(VmcbLayout.Rip, 8);
    public ulong Rax => Read(VmcbLayout.Rax, 8);
}
