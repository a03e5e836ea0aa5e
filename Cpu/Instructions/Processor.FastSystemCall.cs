using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>The fast system calls (SDM vol. 3, 5.8.7–5.8.8): SYSENTER, SYSEXIT, SYSCALL, SYSRET, SWAPGS.</summary>
public sealed unsafe partial class Processor
{
    private const uint FlatCode64 = 0xA09B;
    private const uint FlatCode32 = 0xC09B;
    private const uint FlatData = 0xC093;

    private void LoadFlat(SegmentIndex index, ushort selector, uint attributes)
    {
        _seg[(int)index] = new SegmentRegister { Selector = selector, Base = 0, Limit = 0xFFFFFFFF, Attributes = attributes };
        SegmentChanged((int)index);
    }

    /// <summary>
    /// SYSCALL and SYSRET need EFER.SCE; Intel processors allow them only in 64-bit mode (SDM vol. 2),
    /// AMD ones also in legacy and compatibility mode (APM vol. 3).
    /// </summary>
    private bool FastSystemCallAvailable =>
        (Efer & Registers.Efer.SCE) != 0 && InProtectedMode && (_bitness == 64 || Vendor == CpuVendor.Amd);

    /// <summary>SYSCALL (SDM vol. 2): #UD unless EFER.SCE; in 64-bit mode to LSTAR with RFLAGS masked by FMASK, else legacy mode to STAR[31:0].</summary>
    private bool Syscall(ref DecodedOp op)
    {
        if (!FastSystemCallAvailable) return RaiseFault(ExceptionVector.UD, 0);
        var returnRip = Rip + op.Length;
        var selector = (ushort)((Star >> 32) & 0xFFFC);
        var flags = MaterializeFlags();
        if (InLongMode)
        {
            var target = _bitness == 64 ? Lstar : Cstar;
            _r[1] = _bitness == 64 ? returnRip : (uint)returnRip;
            _r[11] = flags & ~Rflags.RF;
            _flags = (flags & ~Fmask & ~Rflags.RF) | Rflags.Reserved1;
            LoadFlat(SegmentIndex.CS, selector, FlatCode64);
            LoadFlat(SegmentIndex.SS, (ushort)(selector + 8), FlatData);
            Rip = target;
        }
        else
        {
            _r[1] = (uint)returnRip;
            _flags &= ~(Rflags.VM | Rflags.IF | Rflags.RF);
            LoadFlat(SegmentIndex.CS, selector, FlatCode32);
            LoadFlat(SegmentIndex.SS, (ushort)(selector + 8), FlatData);
            Rip = (uint)Star;
        }
        ModeChanged();
        _eventsPending = true;
        return true;
    }

    /// <summary>SYSRET: back to CPL 3, to 64-bit code with REX.W, else to 32-bit compatibility code; #GP for a non-canonical RCX.</summary>
    private bool Sysret(ref DecodedOp op)
    {
        if (!FastSystemCallAvailable) return RaiseFault(ExceptionVector.UD, 0);
        if (Cpl != 0) return RaiseFault(ExceptionVector.GP, 0);
        var baseSelector = (ushort)((Star >> 48) & 0xFFFF);
        if (InLongMode)
        {
            if (op.Size == 8)
            {
                if (!IsCanonical(_r[1])) return RaiseFault(ExceptionVector.GP, 0);
                LoadFlat(SegmentIndex.CS, (ushort)((baseSelector + 16) | 3), FlatCode64 | 0x60);
                Rip = _r[1];
            }
            else
            {
                LoadFlat(SegmentIndex.CS, (ushort)(baseSelector | 3), FlatCode32 | 0x60);
                Rip = (uint)_r[1];
            }
            _flags = (_r[11] & Rflags.Implemented & ~(Rflags.RF | Rflags.VM)) | Rflags.Reserved1;
            _lazyMask = 0;
        }
        else
        {
            LoadFlat(SegmentIndex.CS, (ushort)(baseSelector | 3), FlatCode32 | 0x60);
            Rip = (uint)_r[1];
            _flags |= Rflags.IF;
        }
        var ss = _seg[(int)SegmentIndex.SS];
        ss.Selector = (ushort)((baseSelector + 8) | 3);
        ss.Attributes = (ss.Attributes & ~0x60u & ~SegmentRegister.UnusableBit) | 0x60 | 0x93;
        ss.Base = 0;
        ss.Limit = 0xFFFFFFFF;
        _seg[(int)SegmentIndex.SS] = ss;
        SegmentChanged((int)SegmentIndex.SS);
        ModeChanged();
        _eventsPending = true;
        return true;
    }

    /// <summary>SYSENTER: to CPL 0 at IA32_SYSENTER_CS:EIP with the stack at SYSENTER_ESP; #GP(0) in real mode or with a null SYSENTER_CS.</summary>
    private bool Sysenter(ref DecodedOp op)
    {
        if (!InProtectedMode || (SysenterCs & 0xFFFC) == 0) return RaiseFault(ExceptionVector.GP, 0);
        MaterializeFlags();
        _flags &= ~(Rflags.VM | Rflags.IF | Rflags.RF);
        var cs = (ushort)(SysenterCs & 0xFFFC);
        LoadFlat(SegmentIndex.CS, cs, InLongMode ? FlatCode64 : FlatCode32);
        LoadFlat(SegmentIndex.SS, (ushort)(cs + 8), FlatData);
        Rip = InLongMode ? SysenterEip : (uint)SysenterEip;
        _r[4] = InLongMode ? SysenterEsp : (uint)SysenterEsp;
        ModeChanged();
        _eventsPending = true;
        return true;
    }

    /// <summary>SYSEXIT: to CPL 3 at RDX with the stack at RCX (64-bit code with REX.W).</summary>
    private bool Sysexit(ref DecodedOp op)
    {
        if (!InProtectedMode || (SysenterCs & 0xFFFC) == 0 || Cpl != 0) return RaiseFault(ExceptionVector.GP, 0);
        var baseSelector = (ushort)(SysenterCs & 0xFFFC);
        if (op.Size == 8)
        {
            if (!IsCanonical(_r[2]) || !IsCanonical(_r[1])) return RaiseFault(ExceptionVector.GP, 0);
            LoadFlat(SegmentIndex.CS, (ushort)((baseSelector + 32) | 3), FlatCode64 | 0x60);
            LoadFlat(SegmentIndex.SS, (ushort)((baseSelector + 40) | 3), FlatData | 0x60);
            Rip = _r[2];
            _r[4] = _r[1];
        }
        else
        {
            LoadFlat(SegmentIndex.CS, (ushort)((baseSelector + 16) | 3), FlatCode32 | 0x60);
            LoadFlat(SegmentIndex.SS, (ushort)((baseSelector + 24) | 3), FlatData | 0x60);
            Rip = (uint)_r[2];
            _r[4] = (uint)_r[1];
        }
        ModeChanged();
        _eventsPending = true;
        return true;
    }

    private bool SwapGs(ref DecodedOp op)
    {
        if (_bitness != 64) return RaiseFault(ExceptionVector.UD, 0);
        if (!RequireCpl0()) return false;
        var gs = _seg[(int)SegmentIndex.GS].Base;
        _seg[(int)SegmentIndex.GS].Base = KernelGsBase;
        KernelGsBase = gs;
        SegmentChanged((int)SegmentIndex.GS);
        return Next(ref op);
    }
}
