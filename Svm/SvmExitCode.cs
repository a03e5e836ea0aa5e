namespace Sim.Svm;

/// <summary>#VMEXIT codes written to EXITCODE (AMD APM vol. 2, appendix C, table C-1).</summary>
public static class SvmExitCode
{
    /// <summary>VMEXIT_CR0_READ … VMEXIT_CR15_READ are 00h + n.</summary>
    public const ulong CrRead = 0x00;

    /// <summary>VMEXIT_CR0_WRITE … VMEXIT_CR15_WRITE are 10h + n.</summary>
    public const ulong CrWrite = 0x10;

    /// <summary>VMEXIT_DR0_READ … are 20h + n.</summary>
    public const ulong DrRead = 0x20;

    /// <summary>VMEXIT_DR0_WRITE … are 30h + n.</summary>
    public const ulong DrWrite = 0x30;

    /// <summary>VMEXIT_EXCP0 … VMEXIT_EXCP31 are 40h + vector.</summary>
    public const ulong Exception = 0x40;

    public const ulong Intr = 0x60;
    public const ulong Nmi = 0x61;
    public const ulong Smi = 0x62;
    public const ulong Init = 0x63;
    public const ulong Vintr = 0x64;
    public const ulong Cr0SelWrite = 0x65;
    public const ulong IdtrRead = 0x66;
    public const ulong GdtrRead = 0x67;
    public const ulong LdtrRead = 0x68;
    public const ulong TrRead = 0x69;
    public const ulong IdtrWrite = 0x6A;
    public const ulong GdtrWrite = 0x6B;
    public const ulong LdtrWrite = 0x6C;
    public const ulong TrWrite = 0x6D;
    public const ulong Rdtsc = 0x6E;
    public const ulong Rdpmc = 0x6F;
    public const ulong Pushf = 0x70;
    public const ulong Popf = 0x71;
    public const ulong Cpuid = 0x72;
    public const ulong Rsm = 0x73;
    public const ulong Iret = 0x74;
    public const ulong Swint = 0x75;
    public const ulong Invd = 0x76;
    public const ulong Pause = 0x77;
    public const ulong Hlt = 0x78;
    public const ulong Invlpg = 0x79;
    public const ulong Invlpga = 0x7A;
    public const ulong Ioio = 0x7B;
    public const ulong Msr = 0x7C;
    public const ulong TaskSwitch = 0x7D;
    public const ulong FerrFreeze = 0x7E;
    public const ulong Shutdown = 0x7F;
    public const ulong Vmrun = 0x80;
    public const ulong Vmmcall = 0x81;
    public const ulong Vmload = 0x82;
    public const ulong Vmsave = 0x83;
    public const ulong Stgi = 0x84;
    public const ulong Clgi = 0x85;
    public const ulong Skinit = 0x86;
    public const ulong Rdtscp = 0x87;
    public const ulong Icebp = 0x88;
    public const ulong Wbinvd = 0x89;
    public const ulong Monitor = 0x8A;
    public const ulong Mwait = 0x8B;
    public const ulong MwaitConditional = 0x8C;
    public const ulong Xsetbv = 0x8D;
    public const ulong Invpcid = 0xA2;

    /// <summary>VMEXIT_NPF: nested page fault.</summary>
    public const ulong Npf = 0x400;

    /// <summary>VMEXIT_INVALID (−1): VMRUN found illegal guest state.</summary>
    public const ulong Invalid = ulong.MaxValue;
}
