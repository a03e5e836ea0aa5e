using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>System instructions (SDM vol. 1, 5.20) that have no file of their own: HLT, RDTSC, RDTSCP, INVLPG, INVPCID, INVD, WBINVD, XGETBV/XSETBV, MONITOR/MWAIT, RSM and the virtualization instructions a unit handles.</summary>
public sealed unsafe partial class Processor
{
    private bool RequireCpl0() => Cpl == 0 || RaiseFault(ExceptionVector.GP, 0);

    /// <summary>
    /// MONITOR arms address monitoring at DS:rAX (only the segment and paging checks of a read are
    /// visible); MWAIT returns at once, since the optimized state may end on any event and the
    /// simulator models none. Both are CPL-0 instructions here (no ring-3 MONITOR/MWAIT enumerated).
    /// </summary>
    private bool MonitorOrMwait(ref DecodedOp op)
    {
        if (Cpl != 0) return RaiseFault(ExceptionVector.UD, 0);
        if (op.Sub == 0)
        {
            if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.Monitor) { LinearAddress = _r[0] })) return _hookRetired;
            if ((uint)_r[1] != 0) return RaiseFault(ExceptionVector.GP, 0);
            var offset = _r[0] & (ulong.MaxValue >> op.AddressShift);
            if (!ReadMem(op.Segment, offset, 1, out _)) return false;
            return Next(ref op);
        }
        if (Hooks != null && Intercepted(ref op, InterceptKind.Mwait)) return _hookRetired;
        // ECX bit 0 (interrupts break out even with IF=0) is the only extension enumerated.
        if (((uint)_r[1] & ~1u) != 0) return RaiseFault(ExceptionVector.GP, 0);
        return Next(ref op);
    }

    /// <summary>The time-stamp counter: the cycle clock plus IA32_TSC_ADJUST-style offset.</summary>
    public ulong TimeStampCounter => Cycles + (ulong)TscOffset;

    /// <summary>
    /// An x87, MMX, SSE or AVX instruction the interpreter does not implement: #NM when CR0 says the FPU is unavailable,
    /// else #UD; a VEX one (op.Sub = 2) makes the VEX checks first, which fault as the instruction would.
    /// </summary>
    private bool FpuUnavailable(ref DecodedOp op)
    {
        if (op.Sub == 2) return AvxAvailable() && RaiseFault(ExceptionVector.UD, 0);
        if (op.Sub == 1)
        {
            if ((Cr0 & (Registers.Cr0.EM | Registers.Cr0.TS)) != 0) return RaiseFault(ExceptionVector.NM, 0);
            return RaiseFault(ExceptionVector.UD, 0);
        }
        if ((Cr0 & Registers.Cr0.EM) != 0) return RaiseFault(ExceptionVector.UD, 0);
        if ((Cr0 & Registers.Cr0.TS) != 0) return RaiseFault(ExceptionVector.NM, 0);
        return RaiseFault(ExceptionVector.UD, 0);
    }

    private bool Halt(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        if (Hooks != null && Intercepted(ref op, InterceptKind.Hlt)) return _hookRetired;
        Next(ref op);
        Activity = ActivityState.Hlt;
        _stopBlock = true;
        _eventsPending = true;
        return true;
    }

    private bool ReadTimeStampCounter(ref DecodedOp op)
    {
        if ((Cr4 & Registers.Cr4.TSD) != 0 && Cpl != 0) return RaiseFault(ExceptionVector.GP, 0);
        if (Hooks != null && Intercepted(ref op, InterceptKind.Rdtsc)) return _hookRetired;
        SetEdxEax(TimeStampCounter);
        return Next(ref op);
    }

    private bool ReadTimeStampCounterAndProcessorId(ref DecodedOp op)
    {
        if ((Cr4 & Registers.Cr4.TSD) != 0 && Cpl != 0) return RaiseFault(ExceptionVector.GP, 0);
        if (Hooks != null && Intercepted(ref op, InterceptKind.Rdtscp)) return _hookRetired;
        SetEdxEax(TimeStampCounter);
        _r[1] = (uint)TscAux;
        return Next(ref op);
    }

    private bool InvalidateTlbEntry(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        var ea = EffectiveAddress(ref op);
        var linear = _bitness == 64 ? (op.Segment >= 4 ? _segCheck[op.Segment].Base : 0) + ea : (uint)(_segCheck[op.Segment].Base + ea);
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.Invlpg) { LinearAddress = linear })) return _hookRetired;
        Tlb.FlushPage(linear);
        ClearBlockLookup();
        return Next(ref op);
    }

    /// <summary>INVPCID as CPUID.(EAX=07H,ECX=0):EBX[bit 10] announces it.</summary>
    public static readonly bool InvpcidEnumerated = true;

    /// <summary>INVPCID with the checks of SDM vol. 2 (INVPCID, exceptions) in their order there.</summary>
    private bool InvalidatePcid(ref DecodedOp op)
    {
        // Not enumerated, or not recognized in virtual-8086 mode: #UD.
        if (!InvpcidEnumerated || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
        if (!RequireCpl0()) return false;
        var type = _r[op.R];
        if (_bitness != 64) type &= 0xFFFFFFFF;
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.Invpcid) { InvpcidType = type })) return _hookRetired;
        if (type > 3) return RaiseFault(ExceptionVector.GP, 0);
        var descriptor = EffectiveAddress(ref op);
        if (!ReadMem(op.Segment, descriptor, 8, out var pcid)) return false;
        if (!ReadMem(op.Segment, (descriptor + 8) & (ulong.MaxValue >> op.AddressShift), 8, out var address)) return false;
        // Bits 63:12 of the descriptor are reserved; types 0 and 1 name a PCID, which must be 0 while CR4.PCIDE = 0.
        if (pcid > 0xFFF) return RaiseFault(ExceptionVector.GP, 0);
        if (type <= 1 && pcid != 0 && (Cr4 & Registers.Cr4.PCIDE) == 0) return RaiseFault(ExceptionVector.GP, 0);
        switch (type)
        {
            case 0:
                if (!IsCanonical(address)) return RaiseFault(ExceptionVector.GP, 0);
                Tlb.FlushPage(address);
                ClearBlockLookup();
                break;
            case 1:
                Tlb.FlushContext(pcid | ((ulong)_translationTag << 48));
                ClearBlockLookup();
                break;
            default:
                FlushTranslations();
                break;
        }
        return Next(ref op);
    }

    private bool WriteBackAndInvalidateCaches(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        if (Hooks != null && Intercepted(ref op, InterceptKind.Wbinvd)) return _hookRetired;
        return Next(ref op);
    }

    private bool InvalidateCaches(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        if (Hooks != null && Intercepted(ref op, InterceptKind.Invd)) return _hookRetired;
        return Next(ref op);
    }

    /// <summary>
    /// XGETBV and XSETBV (SDM vol. 2): #UD unless CR4.OSXSAVE; XGETBV reads XCR0 (ECX = 0) or XCR0 AND XINUSE (ECX = 1,
    /// CPUID.(EAX=0DH,ECX=1):EAX[2]); XSETBV needs CPL 0 (a privilege fault, ahead of the VMX exit and the SVM
    /// intercept), then only ECX = 0 and a valid XCR0 value are accepted (#GP(0)).
    /// </summary>
    private bool ExtendedControlRegister(ref DecodedOp op)
    {
        if ((Cr4 & Registers.Cr4.OSXSAVE) == 0) return RaiseFault(ExceptionVector.UD, 0);
        var index = (uint)_r[1];
        if (op.Handler == Handler.Xgetbv)
        {
            if (index > 1) return RaiseFault(ExceptionVector.GP, 0);
            var xcr = index == 0 ? Xcr0 : Xcr0 & Xinuse;
            _r[0] = (uint)xcr;
            _r[2] = xcr >> 32;
            return Next(ref op);
        }
        if (!RequireCpl0()) return false;
        if (Hooks != null && Intercepted(ref op, InterceptKind.Xsetbv)) return _hookRetired;
        var value = ((ulong)(uint)_r[2] << 32) | (uint)_r[0];
        if (index != 0 || !IsValidXcr0(value)) return RaiseFault(ExceptionVector.GP, 0);
        Xcr0 = value;
        return Next(ref op);
    }

    private bool ResumeFromSystemManagementMode(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, InterceptKind.Rsm)) return _hookRetired;
        // The processor has no system-management mode, so it is never in SMM.
        return RaiseFault(ExceptionVector.UD, 0);
    }

    private bool VirtualizationInstruction(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.VirtualizationInstruction) { VirtualizationInstruction = (Iced.Intel.Code)op.Immediate })) return _hookRetired;
        return RaiseFault(ExceptionVector.UD, 0);
    }
}
