using System.Runtime.CompilerServices;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Segmentation (SDM vol. 3, ch. 3 and 5): descriptor reads, segment loads with their protection checks, and the per-segment check that turns an offset into a linear address.</summary>
public sealed unsafe partial class Processor
{
    private static readonly SegmentIndex[] DataSegments = [SegmentIndex.ES, SegmentIndex.DS, SegmentIndex.FS, SegmentIndex.GS];
    private const byte AccessRead = 1;
    private const byte AccessWrite = 2;

    /// <summary>Per segment register, what the checks of a data access need: base, the valid offset range and the permitted accesses.</summary>
    private struct SegmentCheck
    {
        public ulong Base;
        public ulong Low;
        public ulong High;
        public ulong Access;
    }

    private readonly SegmentCheck* _segCheck = (SegmentCheck*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)(sizeof(SegmentCheck) * 6));

    /// <summary>Recomputes the access-check cache of segment register <paramref name="index"/>, and the mode for CS and SS.</summary>
    private void SegmentChanged(int index)
    {
        if (index == (int)SegmentIndex.CS) _cplLoaded = false;
        UpdateSegmentCheck(index);
        if (index is (int)SegmentIndex.CS or (int)SegmentIndex.SS) ModeChanged();
    }

    /// <summary>Recomputes the access-check cache of every segment register, then the mode once.</summary>
    private void AllSegmentsChanged()
    {
        _cplLoaded = false;
        for (var i = 0; i < 6; i++) UpdateSegmentCheck(i);
        ModeChanged();
    }

    private void UpdateSegmentCheck(int index)
    {
        ref var s = ref _seg[index];
        ref var c = ref _segCheck[index];
        c.Base = s.Base;
        if ((Cr0 & Registers.Cr0.PE) == 0 || InVirtual8086Mode)
        {
            c.Low = 0;
            c.High = s.Limit;
            c.Access = AccessRead | AccessWrite;
        }
        else if (s.Unusable)
        {
            c.Low = 1;
            c.High = 0;
            c.Access = 0;
        }
        else
        {
            if (s.IsExpandDown)
            {
                c.Low = (ulong)s.Limit + 1;
                c.High = s.DefaultBig ? 0xFFFFFFFFUL : 0xFFFFUL;
            }
            else
            {
                c.Low = 0;
                c.High = s.Limit;
            }
            if (s.IsSystem) c.Access = 0;
            else if (s.IsCode) c.Access = (s.Type & 2) != 0 ? AccessRead : 0u;
            else c.Access = AccessRead | ((s.Type & 2) != 0 ? AccessWrite : 0u);
        }
    }

    /// <summary>Segmentation: offset to linear address with the limit and type checks; raises #GP(0) or #SS(0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ToLinear(int seg, ulong offset, int size, byte access, out ulong linear)
    {
        if (_bitness == 64)
        {
            linear = seg >= (int)SegmentIndex.FS ? _segCheck[seg].Base + offset : offset;
            if (IsCanonical(linear) && IsCanonical(linear + (ulong)size - 1)) return true;
            return SegmentFault(seg);
        }
        ref var c = ref _segCheck[seg];
        if ((c.Access & access) != access || offset < c.Low || offset + (ulong)size - 1 > c.High)
        {
            linear = 0;
            return SegmentFault(seg);
        }
        linear = (uint)(c.Base + offset);
        return true;
    }

    private bool SegmentFault(int seg) =>
        RaiseFault(seg == (int)SegmentIndex.SS ? ExceptionVector.SS : ExceptionVector.GP, 0);

    /// <summary>Reads the 8-byte descriptor that <paramref name="selector"/> names in the GDT or LDT; faults with (selector & ~3) | ext.</summary>
    private bool ReadDescriptor(ushort selector, out ulong descriptor, int vector, uint ext)
    {
        descriptor = 0;
        var index = (ulong)(selector & 0xFFF8);
        ulong tableBase;
        ulong limit;
        if ((selector & 4) != 0)
        {
            if (Ldtr.Unusable || (Ldtr.Selector & 0xFFFC) == 0) return RaiseFault(vector, (uint)(selector & 0xFFFC) | ext);
            tableBase = Ldtr.Base;
            limit = Ldtr.Limit;
        }
        else
        {
            tableBase = Gdtr.Base;
            limit = Gdtr.Limit;
        }
        if (index + 7 > limit) return RaiseFault(vector, (uint)(selector & 0xFFFC) | ext);
        return ReadSystem(tableBase + index, 8, out descriptor);
    }

    /// <summary>Reads the 16-byte system descriptor (LDT, TSS, call gate) of long mode.</summary>
    private bool ReadDescriptor16(ushort selector, out ulong low, out ulong high, int vector, uint ext)
    {
        high = 0;
        if (!ReadDescriptor(selector, out low, vector, ext)) return false;
        var index = (ulong)(selector & 0xFFF8);
        var tableBase = (selector & 4) != 0 ? Ldtr.Base : Gdtr.Base;
        var limit = (selector & 4) != 0 ? Ldtr.Limit : Gdtr.Limit;
        if (index + 15 > limit) return RaiseFault(vector, (uint)(selector & 0xFFFC) | ext);
        return ReadSystem(tableBase + index + 8, 8, out high);
    }

    /// <summary>The hidden part a descriptor loads: base, byte-granular limit and access rights.</summary>
    private static SegmentRegister DescriptorToSegment(ushort selector, ulong d)
    {
        var limit = (uint)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
        var attributes = (uint)((d >> 40) & 0xF0FF);
        if ((attributes & 0x8000) != 0) limit = (limit << 12) | 0xFFF;
        var baseAddress = ((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000UL);
        return new SegmentRegister { Selector = selector, Base = baseAddress, Limit = limit, Attributes = attributes };
    }

    /// <summary>Sets the accessed bit of a code or data descriptor in memory, as the processor does on loading it.</summary>
    private void SetAccessedBit(ushort selector, ulong descriptor)
    {
        if ((descriptor & (1UL << 40)) != 0 || (descriptor & (1UL << 44)) == 0) return;
        var tableBase = (selector & 4) != 0 ? Ldtr.Base : Gdtr.Base;
        WriteSystem(tableBase + (ulong)(selector & 0xFFF8) + 5, 1, (descriptor >> 40) | 1);
    }

    private void LoadRealModeSegment(int index, ushort selector)
    {
        ref var s = ref _seg[index];
        s.Selector = selector;
        s.Base = (ulong)selector << 4;
        if (InVirtual8086Mode)
        {
            s.Limit = 0xFFFF;
            s.Attributes = index == (int)SegmentIndex.CS ? 0xFBu : 0xF3u;
        }
        else if (index == (int)SegmentIndex.CS)
        {
            // Real mode keeps the cached limit and access rights except that CS becomes an accessed, writable code segment.
            s.Attributes = (s.Attributes & ~(SegmentRegister.UnusableBit | 0x6000u)) | 0x9Bu;
        }
        else
        {
            s.Attributes &= ~SegmentRegister.UnusableBit;
            s.Attributes |= 0x80;
        }
        SegmentChanged(index);
    }

    /// <summary>
    /// MOV Sreg / POP Sreg / LDS ...: loads DS, ES, FS, GS or SS with the checks of SDM vol. 2
    /// (MOV instruction, protected-mode exceptions). CS is never loaded this way.
    /// </summary>
    private bool LoadDataSegment(int index, ushort selector)
    {
        if (!InProtectedMode || InVirtual8086Mode)
        {
            LoadRealModeSegment(index, selector);
            return true;
        }
        var rpl = selector & 3;
        if ((selector & 0xFFFC) == 0)
        {
            if (index == (int)SegmentIndex.SS && !(_bitness == 64 && Cpl != 3 && rpl == Cpl))
                return RaiseFault(ExceptionVector.GP, 0);
            _seg[index] = new SegmentRegister { Selector = selector, Attributes = SegmentRegister.UnusableBit };
            SegmentChanged(index);
            return true;
        }
        if (!ReadDescriptor(selector, out var desc, ExceptionVector.GP, 0)) return false;
        var seg = DescriptorToSegment(selector, desc);
        var error = (uint)(selector & 0xFFFC);
        if (seg.IsSystem) return RaiseFault(ExceptionVector.GP, error);
        if (index == (int)SegmentIndex.SS)
        {
            if (rpl != Cpl || seg.Dpl != Cpl || seg.IsCode || (seg.Type & 2) == 0) return RaiseFault(ExceptionVector.GP, error);
            if (!seg.Present) return RaiseFault(ExceptionVector.SS, error);
        }
        else
        {
            if (seg.IsCode && (seg.Type & 2) == 0) return RaiseFault(ExceptionVector.GP, error);
            var conformingCode = seg.IsCode && (seg.Type & 4) != 0;
            if (!conformingCode && (rpl > seg.Dpl || Cpl > seg.Dpl)) return RaiseFault(ExceptionVector.GP, error);
            if (!seg.Present) return RaiseFault(ExceptionVector.NP, error);
        }
        SetAccessedBit(selector, desc);
        seg.Attributes |= 1;
        _seg[index] = seg;
        SegmentChanged(index);
        return true;
    }

    /// <summary>SS for an inter-privilege transfer: selector from the TSS or a call gate, checked against the new CPL (#TS).</summary>
    private bool LoadStackForPrivilegeChange(ushort selector, int newCpl, uint ext, out SegmentRegister ss)
    {
        ss = default;
        var error = (uint)(selector & 0xFFFC) | ext;
        if ((selector & 0xFFFC) == 0) return RaiseFault(ExceptionVector.TS, ext);
        if (!ReadDescriptor(selector, out var desc, ExceptionVector.TS, ext)) return false;
        ss = DescriptorToSegment(selector, desc);
        if ((selector & 3) != newCpl || ss.Dpl != newCpl || ss.IsSystem || ss.IsCode || (ss.Type & 2) == 0)
            return RaiseFault(ExceptionVector.TS, error);
        if (!ss.Present) return RaiseFault(ExceptionVector.SS, error);
        SetAccessedBit(selector, desc);
        ss.Attributes |= 1;
        return true;
    }

    /// <summary>SS:ESP for privilege level <paramref name="cpl"/> from the current 32- or 16-bit TSS.</summary>
    private bool ReadTssStack(int cpl, out ushort ss, out ulong esp, uint ext)
    {
        ss = 0;
        esp = 0;
        var tss32 = (Tr.Type & 8) != 0;
        var offset = tss32 ? (ulong)(cpl * 8 + 4) : (ulong)(cpl * 4 + 2);
        var size = tss32 ? 4 : 2;
        if (offset + (ulong)size * 2 - 1 > Tr.Limit) return RaiseFault(ExceptionVector.TS, (uint)(Tr.Selector & 0xFFFC) | ext);
        if (!ReadSystem(Tr.Base + offset, size, out esp)) return false;
        if (!ReadSystem(Tr.Base + offset + (ulong)size, 2, out var ssValue)) return false;
        ss = (ushort)ssValue;
        return true;
    }

    /// <summary>A 64-bit field of the 64-bit TSS (RSPn, ISTn).</summary>
    private bool ReadTss64(int offset, out ulong value, uint ext)
    {
        value = 0;
        if ((ulong)offset + 7 > Tr.Limit) return RaiseFault(ExceptionVector.TS, (uint)(Tr.Selector & 0xFFFC) | ext);
        return ReadSystem(Tr.Base + (ulong)offset, 8, out value);
    }
}
