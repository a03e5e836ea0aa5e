using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Model-specific registers (SDM vol. 4) and the instructions that reach them: RDMSR and WRMSR (RDPMC is with the performance counters).</summary>
public sealed unsafe partial class Processor
{
    private const int VariableMtrrCount = 8;

    private void ResetMsrs()
    {
        SysenterCs = SysenterEsp = SysenterEip = 0;
        Star = Lstar = Cstar = Fmask = KernelGsBase = TscAux = 0;
        Pat = 0x0007040600070406UL;
        ApicBase = 0xFEE00000UL | ApicBaseEnable | (Index == 0 ? ApicBaseBsp : 0);
        UpdateApicPage();
        FeatureControl = 0;
        MiscEnable = 1;
        DebugCtl = 0;
        ResetPerformanceMonitoring();
        _mtrrDefType = 0;
        Array.Clear(_mtrrFixed);
        Array.Clear(_mtrrVariable);
    }

    private static int FixedMtrrIndex(uint index) => index switch
    {
        Msr.MtrrFix64K00000 => 0,
        Msr.MtrrFix16K80000 => 1,
        Msr.MtrrFix16KA0000 => 2,
        >= Msr.MtrrFix4KC0000 and <= Msr.MtrrFix4KF8000 => 3 + (int)(index - Msr.MtrrFix4KC0000),
        _ => -1,
    };

    /// <summary>RDMSR of the MSRs this processor implements; false for any other index (#GP).</summary>
    public bool TryReadMsr(uint index, out ulong value)
    {
        value = 0;
        switch (index)
        {
            case Msr.TimeStampCounter: value = TimeStampCounter; return true;
            case Msr.PlatformId when Vendor == CpuVendor.Intel: return true;
            case Msr.ApicBase: value = ApicBase; return true;
            case Msr.TscDeadline or (>= Msr.X2ApicFirst and <= Msr.X2ApicLast) when _localApic != null:
                return _localApic.TryReadMsr(index, out value);
            case Msr.FeatureControl when Vendor == CpuVendor.Intel: value = FeatureControl; return true;
            case Msr.TscAdjust when Vendor == CpuVendor.Intel: value = (ulong)TscOffset; return true;
            case Msr.BiosSignId: return true;
            case Msr.MtrrCap: value = VariableMtrrCount | (1 << 8) | (1 << 10); return true;
            case Msr.SysenterCs: value = SysenterCs; return true;
            case Msr.SysenterEsp: value = SysenterEsp; return true;
            case Msr.SysenterEip: value = SysenterEip; return true;
            case Msr.McgCap or Msr.McgStatus: return true;
            case Msr.MiscEnable when Vendor == CpuVendor.Intel: value = MiscEnable; return true;
            case Msr.PlatformInfo when Vendor == CpuVendor.Intel: value = PlatformInfo; return true;
            case Msr.DebugCtl: value = DebugCtl; return true;
            case Msr.Pat: value = Pat; return true;
            case Msr.MtrrDefType: value = _mtrrDefType; return true;
            case Msr.Efer: value = Efer; return true;
            case Msr.Star: value = Star; return true;
            case Msr.Lstar: value = Lstar; return true;
            case Msr.Cstar: value = Cstar; return true;
            case Msr.Fmask: value = Fmask; return true;
            case Msr.FsBase: value = _seg[(int)SegmentIndex.FS].Base; return true;
            case Msr.GsBase: value = _seg[(int)SegmentIndex.GS].Base; return true;
            case Msr.KernelGsBase: value = KernelGsBase; return true;
            case Msr.TscAux: value = TscAux; return true;
            case Msr.Xss: value = Xss; return true;
        }
        if (TryReadPerformanceMsr(index, out value)) return true;
        if (index >= Msr.MtrrPhysBase0 && index < Msr.MtrrPhysBase0 + 2 * VariableMtrrCount)
        {
            value = _mtrrVariable[index - Msr.MtrrPhysBase0];
            return true;
        }
        var fixedIndex = FixedMtrrIndex(index);
        if (fixedIndex >= 0)
        {
            value = _mtrrFixed[fixedIndex];
            return true;
        }
        if (Hooks != null) return Hooks.TryReadMsr(this, index, out value);
        return false;
    }

    private static bool ValidMemoryType(ulong type) => type is 0 or 1 or 4 or 5 or 6;

    /// <summary>WRMSR with the reserved-bit and canonical-address checks; false raises #GP.</summary>
    public bool TryWriteMsr(uint index, ulong value)
    {
        if (TryWritePerformanceMsr(index, value) is { } accepted) return accepted;
        switch (index)
        {
            case Msr.TimeStampCounter:
                TscOffset = (long)(value - Cycles);
                return true;
            case Msr.ApicBase: return WriteApicBase(value);
            case Msr.TscDeadline or (>= Msr.X2ApicFirst and <= Msr.X2ApicLast) when _localApic != null:
                return _localApic.TryWriteMsr(index, value);
            case Msr.FeatureControl when Vendor == CpuVendor.Intel:
                if ((FeatureControl & 1) != 0) return false;
                FeatureControl = value;
                return true;
            case Msr.TscAdjust when Vendor == CpuVendor.Intel:
                TscOffset = (long)value;
                return true;
            case Msr.BiosSignId: return true;
            case Msr.SysenterCs: SysenterCs = value & 0xFFFF; return true;
            case Msr.SysenterEsp:
                if (!IsCanonical(value)) return false;
                SysenterEsp = value;
                return true;
            case Msr.SysenterEip:
                if (!IsCanonical(value)) return false;
                SysenterEip = value;
                return true;
            case Msr.McgStatus: return value == 0;
            case Msr.MiscEnable when Vendor == CpuVendor.Intel: MiscEnable = value; return true;
            case Msr.DebugCtl:
                if ((value & ~DebugCtlWritable) != 0) return false;
                DebugCtl = value;
                return true;
            case Msr.Pat:
                for (var i = 0; i < 8; i++)
                {
                    var t = (value >> (8 * i)) & 0xFF;
                    if (t is not (0 or 1 or 4 or 5 or 6 or 7)) return false;
                }
                Pat = value;
                return true;
            case Msr.MtrrDefType:
                if ((value & ~0xCFFUL) != 0 || !ValidMemoryType(value & 0xFF)) return false;
                _mtrrDefType = value;
                return true;
            case Msr.Efer: return WriteEfer(value);
            case Msr.Xss: return WriteXss(value);
            case Msr.Star: Star = value; return true;
            case Msr.Lstar:
                if (!IsCanonical(value)) return false;
                Lstar = value;
                return true;
            case Msr.Cstar:
                if (!IsCanonical(value)) return false;
                Cstar = value;
                return true;
            case Msr.Fmask: Fmask = value & 0xFFFFFFFF; return true;
            case Msr.FsBase or Msr.GsBase:
            {
                if (!IsCanonical(value)) return false;
                var seg = index == Msr.FsBase ? SegmentIndex.FS : SegmentIndex.GS;
                _seg[(int)seg].Base = value;
                SegmentChanged((int)seg);
                return true;
            }
            case Msr.KernelGsBase:
                if (!IsCanonical(value)) return false;
                KernelGsBase = value;
                return true;
            case Msr.TscAux:
                if ((value >> 32) != 0) return false;
                TscAux = value;
                return true;
        }
        if (index >= Msr.MtrrPhysBase0 && index < Msr.MtrrPhysBase0 + 2 * VariableMtrrCount)
        {
            var isMask = ((index - Msr.MtrrPhysBase0) & 1) != 0;
            var reserved = isMask ? ~((((1UL << MaxPhysicalAddressBits) - 1) & ~0xFFFUL) | 0x800) : ~((((1UL << MaxPhysicalAddressBits) - 1) & ~0xFFFUL) | 0xFF);
            if ((value & reserved) != 0 || (!isMask && !ValidMemoryType(value & 0xFF))) return false;
            _mtrrVariable[index - Msr.MtrrPhysBase0] = value;
            return true;
        }
        var fixedIndex = FixedMtrrIndex(index);
        if (fixedIndex >= 0)
        {
            for (var i = 0; i < 8; i++)
                if (!ValidMemoryType((value >> (8 * i)) & 0xFF)) return false;
            _mtrrFixed[fixedIndex] = value;
            return true;
        }
        return Hooks != null && Hooks.TryWriteMsr(this, index, value);
    }

    /// <summary>IA32_DEBUGCTL.LBR (bit 0) and BTF (bit 1), the bits both vendors define; the rest (Intel's TR, BTS, freeze bits; AMD's PB0–3) are not implemented and raise #GP.</summary>
    public const ulong DebugCtlWritable = 3;

    /// <summary>
    /// PerfEvtSel: EventSelect[7:0], UnitMask, USR, OS, Edge, INT, EN, INV, CntMask, EventSelect[11:8]
    /// (bits 35:32), GuestOnly and HostOnly (41:40); bits 19, 21, 39:36 and 63:42 are reserved (#GP).
    /// </summary>
    private const ulong PerfEvtSelWritable = 0x0000_030F_FFD7_FFFFUL;

    /// <summary>
    /// MSR_PLATFORM_INFO: the maximum non-turbo ratio (bits 15:8) and the maximum efficiency ratio
    /// (bits 47:40), both the TSC's rate over the 100 MHz bus clock (SDM vol. 4, table 2-20), rounded to
    /// the nearest ratio in 1–255; no ratio, TDP or TCC is programmable (bits 28–30 clear).
    /// </summary>
    private ulong PlatformInfo
    {
        get
        {
            var ratio = Math.Clamp((TscFrequencyHz + BusFrequencyHz / 2) / BusFrequencyHz, 1UL, 255UL);
            return (ratio << 8) | (ratio << 40);
        }
    }

    /// <summary>IA32_APIC_BASE.EN: the local APIC is globally enabled.</summary>
    public const ulong ApicBaseEnable = 1UL << 11;

    /// <summary>IA32_APIC_BASE.EXTD: x2APIC mode.</summary>
    public const ulong ApicBaseX2Apic = 1UL << 10;

    /// <summary>
    /// IA32_APIC_BASE: the base within MAXPHYADDR, BSP, EN and (with a local APIC, which supports
    /// x2APIC) EXTD. EXTD without EN, x2APIC back to xAPIC, and disabled straight to x2APIC are the
    /// invalid transitions of SDM vol. 3, 11.12.5, and raise #GP.
    /// </summary>
    private bool WriteApicBase(ulong value)
    {
        var writable = (((1UL << MaxPhysicalAddressBits) - 1) & ~0xFFFUL) | ApicBaseBsp | ApicBaseEnable | (_localApic != null ? ApicBaseX2Apic : 0);
        if ((value & ~writable) != 0) return false;
        var mode = value & (ApicBaseEnable | ApicBaseX2Apic);
        var previous = ApicBase & (ApicBaseEnable | ApicBaseX2Apic);
        if (mode == ApicBaseX2Apic) return false;
        if (previous == (ApicBaseEnable | ApicBaseX2Apic) && mode == ApicBaseEnable) return false;
        if (previous == 0 && mode == (ApicBaseEnable | ApicBaseX2Apic)) return false;
        var old = ApicBase;
        ApicBase = value;
        UpdateApicPage();
        _localApic?.BaseChanged(old, value);
        return true;
    }

    /// <summary>EFER: SCE, LME, NXE and (with an SVM unit) SVME are writable; LMA is read-only; LME cannot change while paging is on.</summary>
    private bool WriteEfer(ulong value)
    {
        var writable = Registers.Efer.SCE | Registers.Efer.LME | Registers.Efer.NXE | (SvmSupported ? Registers.Efer.SVME : 0);
        if ((value & ~(writable | Registers.Efer.LMA)) != 0) return false;
        if (PagingEnabled && ((value ^ Efer) & Registers.Efer.LME) != 0) return false;
        Efer = (value & writable) | (Efer & Registers.Efer.LMA);
        FlushTranslations();
        return true;
    }

    /// <summary>Whether EFER.SVME may be set: true once an SVM unit is attached.</summary>
    public bool SvmSupported { get; set; }

    private bool ReadMsr(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        var index = (uint)_r[1];
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.Rdmsr) { Msr = new(index, 0) })) return _hookRetired;
        CatchUpPerformanceCounters(ref op);
        if (!TryReadMsr(index, out var value)) return RaiseFault(ExceptionVector.GP, 0);
        SetEdxEax(value);
        return Next(ref op);
    }

    private bool WriteMsr(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        var index = (uint)_r[1];
        var value = ((ulong)(uint)_r[2] << 32) | (uint)_r[0];
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.Wrmsr) { Msr = new(index, value) })) return _hookRetired;
        CatchUpPerformanceCounters(ref op);
        if (!TryWriteMsr(index, value)) return RaiseFault(ExceptionVector.GP, 0);
        return Next(ref op);
    }
}
