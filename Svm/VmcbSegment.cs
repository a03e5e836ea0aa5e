using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Svm;

/// <summary>
/// A segment field of the VMCB state save area (AMD APM vol. 2, table B-2): selector, the 12-bit
/// attrib (descriptor bits 47:40 in 7:0, bits 55:52 in 11:8), a 32-bit limit and a 64-bit base.
/// </summary>
internal static class VmcbSegment
{
    /// <summary>VMCB attrib to the processor's layout (AVL, L, D/B, G in bits 15:12). A data segment with P clear is unusable.</summary>
    public static uint ToProcessor(ushort attrib, bool mayBeUnusable)
    {
        var value = (uint)(attrib & 0xFF) | ((uint)(attrib & 0xF00) << 4);
        if (mayBeUnusable && (attrib & 0x80) == 0) value |= SegmentRegister.UnusableBit;
        return value;
    }

    public static ushort FromProcessor(uint attributes)
    {
        var value = (ushort)((attributes & 0xFF) | ((attributes >> 4) & 0xF00));
        if ((attributes & SegmentRegister.UnusableBit) != 0) value &= unchecked((ushort)~0x80);
        return value;
    }

    public static SegmentRegister Read(PhysicalMemory memory, ulong field, bool mayBeUnusable) => new()
    {
        Selector = (ushort)memory.Read(field + VmcbLayout.SegmentSelector, 2),
        Base = Processor.Canonical(memory.Read(field + VmcbLayout.SegmentBase, 8)),
        Limit = (uint)memory.Read(field + VmcbLayout.SegmentLimit, 4),
        Attributes = ToProcessor((ushort)memory.Read(field + VmcbLayout.SegmentAttrib, 2), mayBeUnusable),
    };

    /// <summary>VMRUN and #VMEXIT canonicalize the segment bases they load: bit 47 sign-extended to bit 63 (APM vol. 2, 15.5.1).</summary>

    public static void Write(PhysicalMemory memory, ulong field, in SegmentRegister segment)
    {
        memory.Write(field + VmcbLayout.SegmentSelector, 2, segment.Selector);
        memory.Write(field + VmcbLayout.SegmentAttrib, 2, FromProcessor(segment.Attributes));
        memory.Write(field + VmcbLayout.SegmentLimit, 4, segment.Limit);
        memory.Write(field + VmcbLayout.SegmentBase, 8, segment.Base);
    }

    public static DescriptorTableRegister ReadTable(PhysicalMemory memory, ulong field) => new()
    {
        Limit = (ushort)memory.Read(field + VmcbLayout.SegmentLimit, 4),
        Base = memory.Read(field + VmcbLayout.SegmentBase, 8),
    };

    public static void WriteTable(PhysicalMemory memory, ulong field, in DescriptorTableRegister table)
    {
        memory.Write(field + VmcbLayout.SegmentLimit, 4, table.Limit);
        memory.Write(field + VmcbLayout.SegmentBase, 8, table.Base);
    }
}
