using Sim.Cpu;

namespace Sim.Microkernels.Nova;

/// <summary>
/// A vCPU's register frame as NOVA keeps it (alex-ab/NOVA r10 <c>Cpu_regs</c>): the state VM entry and exit do not switch
/// (the general-purpose registers but RSP on VMX and RAX/RSP on SVM, which live in the VMCS/VMCB; CR2 on VMX, which has no
/// VMCS field; XCR0/IA32_XSS; the FPU/SSE/AVX image) and the kernel's bookkeeping for the vCPU: the CR0/CR3/CR4 shadows,
/// whether nested paging and the guest FPU are on, the accumulated TSC offset, TSC_AUX, and the portal of the current exit
/// with the nested-fault information that went with it. The kernel model's host code is C#, so while the guest runs these
/// registers are simply the processor's: <see cref="SaveFrom"/> right after a VM exit, <see cref="LoadInto"/> right before
/// VMRESUME/VMRUN; the FPU state is switched lazily, when another vCPU needs the processor's or the image is asked for.
/// </summary>
public sealed class VcpuRegisters
{
    public ulong Rax, Rcx, Rdx, Rbx, Rbp, Rsi, Rdi;
    public ulong R8, R9, R10, R11, R12, R13, R14, R15;

    /// <summary>The guest's CR2 on VMX (on SVM it is in the VMCB).</summary>
    public ulong Cr2;

    /// <summary><c>gst_xsv.xcr</c>: the guest's XCR0; x87 only at creation (<c>Cpu::XCR0_X87</c>).</summary>
    public ulong Xcr0 = Processor.X87StateComponent;

    /// <summary><c>gst_xsv.xss</c>: the guest's IA32_XSS.</summary>
    public ulong Xss;

    private readonly byte[] _fpuImage = new byte[Processor.XsaveAreaMaxBytes];

    /// <summary>The processor whose registers hold the guest's FPU state since the last exit; the image may be older then.</summary>
    private Processor? _fpuLive;

    /// <summary>
    /// The guest's x87/SSE/AVX state in XSAVE standard format, all supported components, for a caller that may change
    /// it: state still in a processor is saved first, and the next entry loads the image.
    /// </summary>
    public byte[] FpuImage
    {
        get
        {
            SyncFpu();
            _fpuLive = null;
            return _fpuImage;
        }
    }

    /// <summary>The image as <see cref="FpuImage"/>, to read only: the processor's registers stay the guest's.</summary>
    public ReadOnlySpan<byte> FpuImageToRead
    {
        get
        {
            SyncFpu();
            return _fpuImage;
        }
    }

    public ulong Cr0Shadow, Cr3Shadow, Cr4Shadow;

    /// <summary><c>nst_on</c>: EPT/NPT in use (otherwise NOVA's vTLB shadows the guest page tables).</summary>
    public bool NestedPaging = true;

    /// <summary><c>fpu_on</c>: the guest owns the FPU; true unless NOVA runs with lazy FPU switching (<c>!Cmdline::fpu_lazy</c>).</summary>
    public bool FpuOn = true;

    /// <summary>The TSC offset the kernel programs into the VMCS/VMCB; replies add to it.</summary>
    public ulong TscOffset;

    public ulong TscAux;

    /// <summary><c>dst_portal</c>: the portal the current exit goes to (0xfe startup, 0xff recall after a reply).</summary>
    public uint DstPortal = NovaExit.Startup;

    /// <summary><c>nst_error</c>/<c>nst_fault</c>: EPT-violation qualification and guest-physical address (SVM: EXITINFO1/2 of an NPF).</summary>
    public ulong NstError, NstFault;

    public VcpuRegisters()
    {
        var x87 = _fpuImage.AsSpan();
        x87[0] = 0x7F;
        x87[1] = 0x03;
        x87[24] = 0x80;
        x87[25] = 0x1F;
    }

    /// <summary>General-purpose register <paramref name="index"/> in the instruction encoding's order (RAX, RCX, RDX, RBX, —, RBP, RSI, RDI, R8–R15); RSP (4) is in the VMCS/VMCB and reads 0 here.</summary>
    public ulong Gpr(int index) => index switch
    {
        0 => Rax, 1 => Rcx, 2 => Rdx, 3 => Rbx, 5 => Rbp, 6 => Rsi, 7 => Rdi,
        8 => R8, 9 => R9, 10 => R10, 11 => R11, 12 => R12, 13 => R13, 14 => R14, 15 => R15,
        _ => 0,
    };

    public void SetGpr(int index, ulong value)
    {
        switch (index)
        {
            case 0: Rax = value; break;
            case 1: Rcx = value; break;
            case 2: Rdx = value; break;
            case 3: Rbx = value; break;
            case 5: Rbp = value; break;
            case 6: Rsi = value; break;
            case 7: Rdi = value; break;
            case 8: R8 = value; break;
            case 9: R9 = value; break;
            case 10: R10 = value; break;
            case 11: R11 = value; break;
            case 12: R12 = value; break;
            case 13: R13 = value; break;
            case 14: R14 = value; break;
            case 15: R15 = value; break;
        }
    }

    /// <summary>
    /// Takes the guest's registers from the processor after a VM exit. The FPU state stays in the processor, as NOVA
    /// switches it only when another context needs the FPU: it is saved when the image is asked for or another vCPU is
    /// loaded into the processor (<see cref="Processor.FpuStateOwner"/>).
    /// </summary>
    public void SaveFrom(Processor cpu, bool svm)
    {
        if (!svm) Rax = cpu.Rax;
        Rcx = cpu.Rcx; Rdx = cpu.Rdx; Rbx = cpu.Rbx;
        Rbp = cpu.Rbp; Rsi = cpu.Rsi; Rdi = cpu.Rdi;
        R8 = cpu.GetGpr(8); R9 = cpu.GetGpr(9); R10 = cpu.GetGpr(10); R11 = cpu.GetGpr(11);
        R12 = cpu.GetGpr(12); R13 = cpu.GetGpr(13); R14 = cpu.GetGpr(14); R15 = cpu.GetGpr(15);
        if (!svm) Cr2 = cpu.Cr2;
        Xcr0 = cpu.Xcr0;
        if (!ReferenceEquals(_fpuLive, cpu)) EvictFpu();
        if (cpu.FpuStateOwner is VcpuRegisters other && !ReferenceEquals(other, this)) other.EvictFpu();
        _fpuLive = cpu;
        cpu.FpuStateOwner = this;
    }

    /// <summary>Saves FPU state still in a processor into the image; the processor no longer holds it for this vCPU.</summary>
    private void EvictFpu()
    {
        if (_fpuLive is not { } cpu) return;
        if (ReferenceEquals(cpu.FpuStateOwner, this))
        {
            cpu.SaveXsaveImage(_fpuImage, Processor.SupportedXcr0);
            cpu.FpuStateOwner = null;
        }
        _fpuLive = null;
    }

    private void SyncFpu()
    {
        if (_fpuLive is { } cpu && ReferenceEquals(cpu.FpuStateOwner, this)) cpu.SaveXsaveImage(_fpuImage, Processor.SupportedXcr0);
    }

    /// <summary>Puts the guest's registers into the processor before VM entry; the FPU state only when the processor does not hold it already.</summary>
    public void LoadInto(Processor cpu, bool svm)
    {
        if (!svm) cpu.Rax = Rax;
        cpu.Rcx = Rcx; cpu.Rdx = Rdx; cpu.Rbx = Rbx;
        cpu.Rbp = Rbp; cpu.Rsi = Rsi; cpu.Rdi = Rdi;
        cpu.SetGpr(8, R8); cpu.SetGpr(9, R9); cpu.SetGpr(10, R10); cpu.SetGpr(11, R11);
        cpu.SetGpr(12, R12); cpu.SetGpr(13, R13); cpu.SetGpr(14, R14); cpu.SetGpr(15, R15);
        if (!svm) cpu.Cr2 = Cr2;
        if (!ReferenceEquals(_fpuLive, cpu) || !ReferenceEquals(cpu.FpuStateOwner, this))
        {
            (cpu.FpuStateOwner as VcpuRegisters)?.EvictFpu();
            EvictFpu();
            cpu.RestoreXsaveImage(_fpuImage, Processor.SupportedXcr0);
            cpu.FpuStateOwner = this;
            _fpuLive = cpu;
        }
        cpu.Xcr0 = Xcr0;
        cpu.TscAux = TscAux;
    }
}
