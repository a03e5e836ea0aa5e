using System.Numerics;
using System.Runtime.CompilerServices;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Memory access from linear addresses through the software TLB, with the mode-derived masks and the slow paths through the page walk.</summary>
public sealed unsafe partial class Processor
{
    /// <summary>The read of a read-modify-write: checks write permission first, so that a fault leaves memory and flags untouched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe bool ReadForWrite(ulong linear, int size, out ulong value)
    {
        ref var e = ref _tlbWrite[Sim.Cpu.Memory.SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= (ulong)(4096 - size))
        {
            var p = (byte*)(e.Delta + (long)linear);
            value = Sim.Cpu.Memory.HostAccess.Load(p, size);
            return true;
        }
        value = 0;
        if (!ProbeWrite(linear, size)) return false;
        return ReadLinear(linear, size, out value);
    }

    /// <summary>A stack write made as if at privilege level <paramref name="cpl"/> (for frames pushed on a more privileged stack).</summary>
    private bool WriteLinearAs(ulong linear, int size, ulong value, int cpl) =>
        cpl == 3 && Cpl == 3 ? WriteLinear(linear, size, value) : cpl < 3 ? WriteSupervisor(linear, size, value) : WriteLinearSlow(linear, size, value, false);

    /// <summary>
    /// CPL as a virtualization unit loaded it (<see cref="LoadCpl"/>), kept until CS is loaded again or
    /// the mode changes: until then CPL need not follow CS and SS.
    /// </summary>
    private bool _cplLoaded;
    private int _loadedCpl;

    /// <summary>
    /// Makes <paramref name="cpl"/> the current privilege level in protected mode, whatever CS.DPL and
    /// SS.DPL say, as VMRUN loads the VMCB's CPL field (AMD APM vol. 2, 15.5.1); the next CS load (a far
    /// transfer, an event, IRET, a fast system call, a task switch) derives CPL from CS again.
    /// </summary>
    public void LoadCpl(int cpl)
    {
        if (!InProtectedMode || InVirtual8086Mode) return;
        _loadedCpl = cpl & 3;
        _cplLoaded = true;
        ModeChanged();
    }

    /// <summary>Recomputes what depends on CR0, CR4, EFER, CS and RFLAGS.VM: code size, CPL and the TLB arrays in use.</summary>
    private void ModeChanged()
    {
        ref var cs = ref _seg[(int)SegmentIndex.CS];
        var protectedMode = (Cr0 & Registers.Cr0.PE) != 0;
        var virtual8086 = InVirtual8086Mode;
        int bitness;
        int cpl;
        if (!protectedMode)
        {
            bitness = 16;
            cpl = 0;
            _cplLoaded = false;
        }
        else if (virtual8086)
        {
            bitness = 16;
            cpl = 3;
            _cplLoaded = false;
        }
        else
        {
            bitness = (Efer & Registers.Efer.LMA) != 0 && cs.Long ? 64 : cs.DefaultBig ? 32 : 16;
            cpl = _seg[(int)SegmentIndex.SS].Dpl;
            // A conforming segment's DPL may lie below CPL; CS.RPL carries CPL there (SDM vol. 3, 5.8.1.2).
            if (!cs.Unusable && cs.IsCode) cpl = (cs.Type & 4) != 0 ? cs.Selector & 3 : cs.Dpl;
            if (_cplLoaded) cpl = _loadedCpl;
        }
        _bitness = bitness;
        if (cpl != Cpl)
        {
            Cpl = cpl;
            Tlb.SelectPrivilege(cpl == 3);
        }
        UpdateAlignmentCheck();
        _tlbFetch = Tlb.Fetch;
        _ripMask = bitness == 64 ? ulong.MaxValue : bitness == 32 ? 0xFFFFFFFFUL : 0xFFFFUL;
        _stackMask = bitness == 64 ? ulong.MaxValue : _seg[(int)SegmentIndex.SS].DefaultBig ? 0xFFFFFFFFUL : 0xFFFFUL;
        _codeLimit = _seg[(int)SegmentIndex.CS].Limit;
        _fetchLimit = Math.Min(_codeLimit, _ripMask);
        _stopBlock = true;
    }

    private SoftwareTlb.Entry* _tlbRead;
    private SoftwareTlb.Entry* _tlbWrite;
    private SoftwareTlb.Entry* _tlbFetch;

    /// <summary>Stack-pointer width: SS.B outside 64-bit mode.</summary>
    private ulong _stackMask = 0xFFFF;

    /// <summary>CS limit for branch-target checks outside 64-bit mode.</summary>
    private ulong _codeLimit = 0xFFFF;

    /// <summary>The last IP an instruction may occupy outside 64-bit mode: the CS limit or the IP wrap, whichever is lower.</summary>
    private ulong _fetchLimit = 0xFFFF;

    /// <summary>RIP wraps at the code size: 16, 32 or 64 bits.</summary>
    private ulong _ripMask = 0xFFFF;

    /// <summary>A 48-bit linear address sign-extended to 64 bits (SDM vol. 1, 3.3.7.1).</summary>
    public static ulong Canonical(ulong linear) => (ulong)((long)(linear << 16) >> 16);

    /// <summary>Whether bits 63:47 of <paramref name="linear"/> are all equal (SDM vol. 1, 3.3.7.1).</summary>
    public static bool IsCanonical(ulong linear) => Canonical(linear) == linear;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ReadMem(int seg, ulong offset, int size, out ulong value)
    {
        if (!ToLinear(seg, offset, size, AccessRead, out var linear))
        {
            value = 0;
            return false;
        }
        return ReadLinear(linear, size, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool WriteMem(int seg, ulong offset, int size, ulong value)
    {
        if (!ToLinear(seg, offset, size, AccessWrite, out var linear)) return false;
        return WriteLinear(linear, size, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ReadLinear(ulong linear, int size, out ulong value)
    {
        ref var e = ref _tlbRead[SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= (ulong)(4096 - size))
        {
            var p = (byte*)(e.Delta + (long)linear);
            value = HostAccess.Load(p, size);
            return true;
        }
        return ReadLinearSlow(linear, size, out value, false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool WriteLinear(ulong linear, int size, ulong value)
    {
        ref var e = ref _tlbWrite[SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= (ulong)(4096 - size))
        {
            var p = (byte*)(e.Delta + (long)linear);
            HostAccess.Store(p, size, value);
            return true;
        }
        return WriteLinearSlow(linear, size, value, false);
    }

    /// <summary>Checks that a write of <paramref name="size"/> bytes at the linear address would succeed, without writing.</summary>
    private bool ProbeWrite(ulong linear, int size)
    {
        if (!Translate(linear, SoftwareTlb.Kind.Write, false, out _)) return false;
        if (((linear & 0xFFF) + (ulong)size) > 4096)
            return Translate((linear | 0xFFF) + 1, SoftwareTlb.Kind.Write, false, out _);
        return true;
    }

    private bool ReadLinearSlow(ulong linear, int size, out ulong value, bool supervisor)
    {
        value = 0;
        if (_alignmentCheck && !supervisor && Misaligned(linear, size)) return RaiseFault(ExceptionVector.AC, 0);
        if (((linear & 0xFFF) + (ulong)size) > 4096)
        {
            var firstLen = (int)(4096 - (linear & 0xFFF));
            var second = _bitness == 64 ? linear + (ulong)firstLen : (uint)(linear + (ulong)firstLen);
            if (!Translate(linear, SoftwareTlb.Kind.Read, supervisor, out var p1)) return false;
            if (!Translate(second, SoftwareTlb.Kind.Read, supervisor, out var p2)) return false;
            for (var i = 0; i < size; i++)
            {
                var pa = i < firstLen ? p1 + (ulong)i : p2 + (ulong)(i - firstLen);
                value |= ReadPhysical(pa, 1) << (8 * i);
            }
            if (_dataBreakpointsArmed) MatchDataBreakpoints(linear, size, write: false);
            return true;
        }
        if (!Translate(linear, SoftwareTlb.Kind.Read, supervisor, out var phys)) return false;
        value = ReadPhysical(phys, size);
        if (_dataBreakpointsArmed) MatchDataBreakpoints(linear, size, write: false);
        return true;
    }

    private bool WriteLinearSlow(ulong linear, int size, ulong value, bool supervisor)
    {
        if (_alignmentCheck && !supervisor && Misaligned(linear, size)) return RaiseFault(ExceptionVector.AC, 0);
        if (_dataBreakpointsArmed) MatchDataBreakpoints(linear, size, write: true);
        if (((linear & 0xFFF) + (ulong)size) > 4096)
        {
            var firstLen = (int)(4096 - (linear & 0xFFF));
            var second = _bitness == 64 ? linear + (ulong)firstLen : (uint)(linear + (ulong)firstLen);
            if (!Translate(linear, SoftwareTlb.Kind.Write, supervisor, out var p1)) return false;
            if (!Translate(second, SoftwareTlb.Kind.Write, supervisor, out var p2)) return false;
            var invalidations = _blocks.Invalidations;
            for (var i = 0; i < size; i++)
            {
                var pa = i < firstLen ? p1 + (ulong)i : p2 + (ulong)(i - firstLen);
                WritePhysical(pa, 1, value >> (8 * i));
            }
            StopIfCodeChanged(invalidations);
            return true;
        }
        ref var code = ref Tlb.CodeWrite(!supervisor && Cpl == 3)[SoftwareTlb.Slot(linear)];
        ulong phys;
        if (code.Tag == ((linear & ~0xFFFUL) ^ _tlbContext)) phys = code.PhysicalPage | (linear & 0xFFF);
        else if (!Translate(linear, SoftwareTlb.Kind.Write, supervisor, out phys)) return false;
        var before = _blocks.Invalidations;
        WritePhysical(phys, size, value);
        StopIfCodeChanged(before);
        return true;
    }

    /// <summary>Ends the running block when a write dropped decoded code: the block may be among it.</summary>
    private void StopIfCodeChanged(long invalidationsBefore)
    {
        if (_blocks.Invalidations != invalidationsBefore) _stopBlock = true;
    }

    /// <summary>Reads a system structure (GDT, LDT, IDT, TSS) with supervisor privilege, whatever the CPL.</summary>
    private bool ReadSystem(ulong linear, int size, out ulong value)
    {
        if (_bitness != 64) linear = (uint)linear;
        return ReadSupervisor(linear, size, out value);
    }

    private bool WriteSystem(ulong linear, int size, ulong value)
    {
        if (_bitness != 64) linear = (uint)linear;
        return WriteSupervisor(linear, size, value);
    }

    /// <summary>
    /// An implicit supervisor-mode read. The supervisor TLB entries serve it at any CPL: an entry is
    /// made only where a supervisor access needs neither EFLAGS.AC nor a page walk (no SMAP-governed
    /// user page, accessed bit set), which is where an implicit one succeeds alike.
    /// </summary>
    private bool ReadSupervisor(ulong linear, int size, out ulong value)
    {
        ref var e = ref Tlb.SupervisorRead[SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= (ulong)(4096 - size))
        {
            var p = (byte*)(e.Delta + (long)linear);
            value = HostAccess.Load(p, size);
            return true;
        }
        return ReadLinearSlow(linear, size, out value, true);
    }

    /// <summary>An implicit supervisor-mode write, served by the supervisor TLB entries as <see cref="ReadSupervisor"/> (dirty bit set, not a code page).</summary>
    private bool WriteSupervisor(ulong linear, int size, ulong value)
    {
        ref var e = ref Tlb.SupervisorWrite[SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= (ulong)(4096 - size))
        {
            var p = (byte*)(e.Delta + (long)linear);
            HostAccess.Store(p, size, value);
            return true;
        }
        return WriteLinearSlow(linear, size, value, true);
    }

    /// <summary>Reads guest memory by linear address for debuggers and tests; false where it is not mapped.</summary>
    public bool TryReadLinear(ulong linear, Span<byte> buffer)
    {
        for (var i = 0; i < buffer.Length; i++)
        {
            if (!PeekTranslate(linear + (ulong)i, out var phys)) return false;
            buffer[i] = (byte)_memory.Read(phys, 1);
        }
        return true;
    }
}
