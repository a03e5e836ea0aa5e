namespace Sim.Microkernels.Nova;

/// <summary>
/// Byte offsets in a NOVA UTCB (one 4-KiB page) as the NH revision lays it out (alex-ab/NOVA r10 include/utcb.hpp, mirrored
/// by Genode's <c>Nova::Utcb</c> in base-nova syscall-generic.h): the header (items, the two receive CRDs, tls), then the
/// data area, packed. N19 differs after <see cref="Ctrl"/>: it has a reserved quadword there and neither xcr0/xss nor
/// cstar, tsc_aux, exit_value or the FPU area, so every offset from <see cref="Cr0"/> on moves.
/// </summary>
public static class UtcbLayout
{
    public const int Size = 4096;

    public const int Items = 0x000;
    public const int Xlt = 0x008;
    public const int Del = 0x010;
    public const int Tls = 0x018;

    /// <summary>Start of the data area (<c>Utcb_data</c>); message words mr[i] are at DataArea + 8 i.</summary>
    public const int DataArea = 0x020;

    /// <summary>The words of the data area (<c>sizeof (Utcb_data) / sizeof (mword)</c>), what load_vmx/load_svm store in items.</summary>
    public const int DataWords = (Size - DataArea) / 8;

    public const int Mtd = 0x020;
    public const int InstLen = 0x028;
    public const int Rip = 0x030;
    public const int Rflags = 0x038;
    public const int IntrState = 0x040;
    public const int ActvState = 0x044;

    /// <summary>inj: intr_info (low 32 bits) and intr_error (high 32 bits) as one quadword.</summary>
    public const int Inj = 0x048;
    public const int IntrInfo = 0x048;
    public const int IntrError = 0x04C;

    public const int Rax = 0x050;
    public const int Rcx = 0x058;
    public const int Rdx = 0x060;
    public const int Rbx = 0x068;
    public const int Rsp = 0x070;
    public const int Rbp = 0x078;
    public const int Rsi = 0x080;
    public const int Rdi = 0x088;
    public const int R8 = 0x090;
    public const int R9 = 0x098;
    public const int R10 = 0x0A0;
    public const int R11 = 0x0A8;
    public const int R12 = 0x0B0;
    public const int R13 = 0x0B8;
    public const int R14 = 0x0C0;
    public const int R15 = 0x0C8;

    public const int Qual0 = 0x0D0;
    public const int Qual1 = 0x0D8;
    public const int Ctrl0 = 0x0E0;
    public const int Ctrl1 = 0x0E4;

    public const int Cr0 = 0x0E8;
    public const int Cr2 = 0x0F0;
    public const int Cr3 = 0x0F8;
    public const int Cr4 = 0x100;
    public const int Xcr0 = 0x108;
    public const int Xss = 0x110;
    public const int Pdpte0 = 0x118;
    public const int Pdpte1 = 0x120;
    public const int Pdpte2 = 0x128;
    public const int Pdpte3 = 0x130;
    public const int Cr8 = 0x138;
    public const int Efer = 0x140;
    public const int Star = 0x148;
    public const int Lstar = 0x150;
    public const int Cstar = 0x158;
    public const int Fmask = 0x160;
    public const int KernelGsBase = 0x168;
    public const int Tpr = 0x170;
    public const int TprThreshold = 0x174;
    public const int Dr7 = 0x178;
    public const int SysenterCs = 0x180;
    public const int SysenterRsp = 0x188;
    public const int SysenterRip = 0x190;

    /// <summary>Each segment is <c>Utcb_segment</c> {u16 sel, u16 ar, u32 limit, u64 base}: the VMCB's segment format.</summary>
    public const int SegmentSize = 16;
    public const int SegmentSel = 0;
    public const int SegmentAr = 2;
    public const int SegmentLimit = 4;
    public const int SegmentBase = 8;

    public const int Es = 0x198;
    public const int Cs = 0x1A8;
    public const int Ss = 0x1B8;
    public const int Ds = 0x1C8;
    public const int Fs = 0x1D8;
    public const int Gs = 0x1E8;
    public const int Ld = 0x1F8;
    public const int Tr = 0x208;
    public const int Gd = 0x218;
    public const int Id = 0x228;

    public const int TscVal = 0x238;
    public const int TscOff = 0x240;
    public const int TscAux = 0x248;

    /// <summary>The portal number the exit was delivered to (Genode's <c>utcb.exit_reason</c>).</summary>
    public const int ExitValue = 0x250;

    /// <summary>The vCPU's FPU image, XSAVE standard format (Genode: <c>uint8_t fpu[2560]</c>).</summary>
    public const int Fpu = 0x258;
    public const int FpuSize = 2560;
}
