using Sim.Cpu;

namespace Sim.Platform.Apic;

/// <summary>
/// The x2APIC's MSR interface (SDM vol. 3, 11.12.1, table 11-6): MSR 800h + offset/10h while
/// IA32_APIC_BASE.EXTD is set, 32-bit registers but the 64-bit ICR, #GP for reads of write-only and
/// writes of read-only registers, set reserved bits, and every MSR in xAPIC mode.
/// </summary>
public sealed partial class LocalApic
{
    public bool TryReadMsr(uint index, out ulong value)
    {
        value = 0;
        if (index == Msr.TscDeadline)
        {
            value = TscDeadline;
            return true;
        }
        if (!X2ApicMode) return false;
        switch (index)
        {
            case 0x802: value = ApicId; return true;
            case 0x803: value = VersionValue; return true;
            case 0x808: value = _tpr; return true;
            case 0x80A: value = ProcessorPriority; return true;
            case 0x80D: value = X2ApicLogicalId; return true;
            case 0x80F: value = _svr; return true;
            case >= 0x810 and <= 0x817: value = _isr[index - 0x810]; return true;
            case >= 0x818 and <= 0x81F: value = _tmr[index - 0x818]; return true;
            case >= 0x820 and <= 0x827: value = _irr[index - 0x820]; return true;
            case 0x828: value = _esr; return true;
            case 0x830: value = ((ulong)_icrHigh << 32) | _icrLow; return true;
            case >= 0x832 and <= 0x837: value = _lvt[index - 0x832]; return true;
            case 0x838: value = _initialCount; return true;
            case 0x839: value = CurrentCount; return true;
            case 0x83E: value = _divideConfiguration; return true;
            default: return false;
        }
    }

    public bool TryWriteMsr(uint index, ulong value)
    {
        if (index == Msr.TscDeadline)
        {
            WriteTscDeadline(value);
            return true;
        }
        if (!X2ApicMode) return false;
        if (index != 0x830 && (value >> 32) != 0) return false;
        var low = (uint)value;
        switch (index)
        {
            case 0x808:
                if (low > 0xFF) return false;
                TaskPriority = (byte)low;
                return true;
            case 0x80B:
                if (low != 0) return false;
                EndOfInterrupt();
                return true;
            case 0x80F:
                if ((low & ~0x3FFu) != 0) return false;
                WriteSvr(low);
                return true;
            case 0x828:
                if (low != 0) return false;
                LatchErrors();
                return true;
            case 0x830:
                if ((low & ~0x000C_CFFFu) != 0) return false;
                _icrLow = low;
                _icrHigh = (uint)(value >> 32);
                SendIpi(low, _icrHigh);
                return true;
            case >= 0x832 and <= 0x837:
                if ((low & ~LvtWritable[index - 0x832]) != 0) return false;
                WriteLvt((int)(index - 0x832), low);
                return true;
            case 0x838:
                WriteInitialCount(low);
                return true;
            case 0x83E:
                if ((low & ~0xBu) != 0) return false;
                WriteDivideConfiguration(low);
                return true;
            case 0x83F:
                if (low > 0xFF) return false;
                SendIpi(low | (1u << 18), 0);
                return true;
            default: return false;
        }
    }
}
