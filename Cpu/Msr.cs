namespace Sim.Cpu;

/// <summary>Model-specific register indices (SDM vol. 4).</summary>
public static class Msr
{
    public const uint TimeStampCounter = 0x10;
    public const uint PlatformId = 0x17;
    public const uint ApicBase = 0x1B;
    public const uint FeatureControl = 0x3A;
    public const uint TscAdjust = 0x3B;
    public const uint BiosSignId = 0x8B;
    public const uint PlatformInfo = 0xCE;
    public const uint MtrrCap = 0xFE;
    public const uint SysenterCs = 0x174;
    public const uint SysenterEsp = 0x175;
    public const uint SysenterEip = 0x176;
    public const uint McgCap = 0x179;
    public const uint McgStatus = 0x17A;
    public const uint MiscEnable = 0x1A0;
    public const uint DebugCtl = 0x1D9;
    public const uint MtrrPhysBase0 = 0x200;
    public const uint MtrrFix64K00000 = 0x250;
    public const uint MtrrFix16K80000 = 0x258;
    public const uint MtrrFix16KA0000 = 0x259;
    public const uint MtrrFix4KC0000 = 0x268;
    public const uint MtrrFix4KF8000 = 0x26F;
    public const uint Pat = 0x277;
    public const uint MtrrDefType = 0x2FF;
    public const uint Efer = 0xC0000080;
    public const uint Star = 0xC0000081;
    public const uint Lstar = 0xC0000082;
    public const uint Cstar = 0xC0000083;
    public const uint Fmask = 0xC0000084;
    public const uint FsBase = 0xC0000100;
    public const uint GsBase = 0xC0000101;
    public const uint KernelGsBase = 0xC0000102;
    public const uint TscAux = 0xC0000103;
    /// <summary>AMD's legacy PerfEvtSel0–3 (APM vol. 2, 13.2.1); PerfCtr0–3 follow at C001_0004h.</summary>
    public const uint PerfEvtSel0 = 0xC0010000;
    public const uint PerfCtr0 = 0xC0010004;
    public const uint Ia32Pmc0 = 0xC1;
    public const uint Ia32PerfEvtSel0 = 0x186;
    public const uint Ia32FixedCtr0 = 0x309;
    public const uint Ia32FixedCtrCtrl = 0x38D;
    public const uint Ia32PerfGlobalStatus = 0x38E;
    public const uint Ia32PerfGlobalCtrl = 0x38F;
    public const uint Ia32PerfGlobalOvfCtrl = 0x390;
    public const uint TscDeadline = 0x6E0;
    /// <summary>IA32_XSS (SDM vol. 1, 13.3): the supervisor state components of XSAVES and XRSTORS.</summary>
    public const uint Xss = 0xDA0;
    public const uint X2ApicFirst = 0x800;
    public const uint X2ApicLast = 0x8FF;
}
