namespace Sim.Svm;

/// <summary>
/// Byte offsets of the VMCB fields (AMD APM vol. 2, appendix B): the control area (table B-1,
/// 000h–3FFh) and the state save area (table B-2, from 400h). The unit reads and writes the VMCB
/// only through these offsets, since software that copies the VMCB relies on the layout.
/// </summary>
public static class VmcbLayout
{
    public const int Size = 4096;

    /// <summary>Intercept reads of CR0–CR15 (bits 15:0) and writes (bits 31:16).</summary>
    public const int InterceptCr = 0x000;

    /// <summary>Intercept reads of DR0–DR15 (bits 15:0) and writes (bits 31:16).</summary>
    public const int InterceptDr = 0x004;

    /// <summary>Intercept exception vectors 0–31.</summary>
    public const int InterceptExceptions = 0x008;

    /// <summary>INTR … shutdown intercepts (see <see cref="SvmIntercept"/>).</summary>
    public const int InterceptMisc1 = 0x00C;

    /// <summary>VMRUN … XSETBV intercepts.</summary>
    public const int InterceptMisc2 = 0x010;

    /// <summary>INVLPGB, INVPCID … intercepts.</summary>
    public const int InterceptMisc3 = 0x014;

    public const int PauseFilterThreshold = 0x03C;
    public const int PauseFilterCount = 0x03E;
    public const int IopmBasePa = 0x040;
    public const int MsrpmBasePa = 0x048;
    public const int TscOffset = 0x050;

    /// <summary>Guest ASID (bits 31:0).</summary>
    public const int GuestAsid = 0x058;

    /// <summary>TLB_CONTROL (bits 39:32 of the quadword at 058h).</summary>
    public const int TlbControl = 0x05C;

    /// <summary>V_TPR (7:0), V_IRQ (8), VGIF (9), V_INTR_PRIO (19:16), V_IGN_TPR (20), V_INTR_MASKING (24), V_INTR_VECTOR (39:32).</summary>
    public const int VIntr = 0x060;

    /// <summary>INTERRUPT_SHADOW (bit 0), GUEST_INTERRUPT_MASK (bit 1).</summary>
    public const int InterruptShadow = 0x068;

    public const int ExitCode = 0x070;
    public const int ExitInfo1 = 0x078;
    public const int ExitInfo2 = 0x080;
    public const int ExitIntInfo = 0x088;

    /// <summary>NP_ENABLE (bit 0), SEV (1), SEV-ES (2) …</summary>
    public const int NpEnable = 0x090;

    public const int EventInj = 0x0A8;
    public const int NCr3 = 0x0B0;

    /// <summary>LBR_VIRTUALIZATION_ENABLE (bit 0), virtualized VMSAVE/VMLOAD (bit 1).</summary>
    public const int LbrVirtualizationEnable = 0x0B8;

    /// <summary>VMCB clean bits (31:0), see <see cref="VmcbCleanBits"/>.</summary>
    public const int VmcbClean = 0x0C0;

    /// <summary>nRIP: the guest RIP of the next sequential instruction (NRIP save).</summary>
    public const int NRip = 0x0C8;

    public const int NumberOfBytesFetched = 0x0D0;
    public const int GuestInstructionBytes = 0x0D1;

    /// <summary>Each segment field is 16 bytes: selector (+0, 2), attrib (+2, 2), limit (+4, 4), base (+8, 8).</summary>
    public const int Es = 0x400;
    public const int Cs = 0x410;
    public const int Ss = 0x420;
    public const int Ds = 0x430;
    public const int Fs = 0x440;
    public const int Gs = 0x450;
    public const int Gdtr = 0x460;
    public const int Ldtr = 0x470;
    public const int Idtr = 0x480;
    public const int Tr = 0x490;

    public const int SegmentSelector = 0;
    public const int SegmentAttrib = 2;
    public const int SegmentLimit = 4;
    public const int SegmentBase = 8;

    public const int Cpl = 0x4CB;
    public const int Efer = 0x4D0;
    public const int Cr4 = 0x548;
    public const int Cr3 = 0x550;
    public const int Cr0 = 0x558;
    public const int Dr7 = 0x560;
    public const int Dr6 = 0x568;
    public const int Rflags = 0x570;
    public const int Rip = 0x578;
    public const int Rsp = 0x5D8;
    public const int Rax = 0x5F8;
    public const int Star = 0x600;
    public const int Lstar = 0x608;
    public const int Cstar = 0x610;
    public const int Sfmask = 0x618;
    public const int KernelGsBase = 0x620;
    public const int SysenterCs = 0x628;
    public const int SysenterEsp = 0x630;
    public const int SysenterEip = 0x638;
    public const int Cr2 = 0x640;
    public const int GPat = 0x668;
    public const int DbgCtl = 0x670;
    public const int BrFrom = 0x678;
    public const int BrTo = 0x680;
    public const int LastExcpFrom = 0x688;
    public const int LastExcpTo = 0x690;
}
