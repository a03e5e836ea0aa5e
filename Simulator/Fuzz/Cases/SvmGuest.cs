using System.Buffers.Binary;
using Iced.Intel;
using Sim.Images;
using Sim.Svm;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Fuzz.Cases;

/// <summary>
/// An AMD-V hypervisor in 64-bit guest code: EFER.SVME, VM_HSAVE_PA, a VMCB with a valid baseline
/// (a 64-bit guest in the host's environment or a real-mode guest, nested paging at random) and
/// random bytes in it, then a VMRUN loop. Every #VMEXIT resumes the guest's random code at a random
/// point after two random VMCB writes and a few random SVM instructions; now and then the baseline
/// VMCB is copied back so that the guest runs again.
/// </summary>
internal static class SvmGuest
{
    private const ulong Vmcb = FuzzLayout.VirtualizationArea;
    private const ulong Hsave = Vmcb + 0x1000;
    private const ulong Iopm = Vmcb + 0x2000;
    private const ulong Msrpm = Vmcb + 0x5000;
    private const ulong SecondVmcb = Vmcb + 0x7000;
    private const ulong BaselineCopy = FuzzLayout.Tables;
    private const ulong MutationTable = FuzzLayout.Tables + 0x1000;
    private const int Mutations = 256;
    private const ulong Loop = FuzzLayout.Prolog + 0x100;

    public static FuzzProgram Generate(Random rng)
    {
        var b = new GuestBuilder(rng);
        var real = rng.Next(3) == 0;
        var npt = rng.Next(2) == 0;
        b.AddRandomCode(real ? 16 : 64, linear: !real, rng.Next(0x400, 0x2000));
        b.AddGdt(tss64: true);
        b.AddIdt(FuzzLayout.Idt, long64: true, FuzzLayout.Handler64, FuzzLayout.Code64, allow16: false);
        b.AddIdt(FuzzLayout.HostIdt, long64: true, FuzzLayout.HostFaultHandler, FuzzLayout.Code64, allow16: false);
        b.AddTss(tss64: true);
        b.AddDescriptorTableRegisters(16);
        b.AddIvt();
        var pml4 = b.AddLongModePageTables(user: false);
        var ncr3 = npt ? b.AddNestedPageTables(FuzzLayout.NestedTables) : 0;
        b.Add(FuzzLayout.Handler64, 64, a => ModeGuest.Handler64(a, FuzzLayout.Code64, false, b.RandomFlags()));
        b.Add(FuzzLayout.Handler16, 16, a => ModeGuest.Handler16(a, b.RandomFlags()));

        var vmcb = Baseline(pml4, real, ncr3, rng);
        b.Add(BaselineCopy, (byte[])vmcb.Clone());
        for (var n = rng.Next(4); n > 0; n--) Apply(vmcb, Mutation(rng, vmcb));
        b.Add(Vmcb, vmcb);
        var iopm = new byte[0x3000];
        var msrpm = new byte[0x2000];
        if (rng.Next(2) == 0) rng.NextBytes(iopm);
        if (rng.Next(2) == 0) rng.NextBytes(msrpm);
        b.Add(Iopm, iopm);
        b.Add(Msrpm, msrpm);
        var mutations = new ulong[Mutations * 2];
        for (var i = 0; i < Mutations; i++)
        {
            var (offset, width, value) = rng.Next(3) == 0 ? (VmcbLayout.Rflags, 8, 2UL) : Mutation(rng, vmcb);
            mutations[i * 2] = (uint)offset | ((ulong)(uint)width << 32);
            mutations[i * 2 + 1] = value;
        }
        b.AddQwords(MutationTable, mutations);

        b.Add(FuzzLayout.Prolog, 64, a => Prolog(a, pml4));
        b.Add(Loop, 64, a => RunLoop(a, rng));
        b.Add(FuzzLayout.HostFaultHandler, 64, a => VmxGuest.JumpTo(a, FuzzLayout.Prolog + 0x80));
        b.Add(FuzzLayout.Prolog + 0x80, 64, a => Restart(a, Loop));
        return new FuzzProgram
        {
            Description = $"Svm, {(real ? "real-mode" : "64-bit")} guest{(npt ? " with nested paging" : "")}",
            MemoryBytes = FuzzLayout.DefaultMemory,
            Vendor = Sim.Cpu.CpuVendor.Amd,
            Image = new BootImage { Chunks = b.Chunks, Entry = new LongModeEntry(FuzzLayout.Prolog, 0, 0), Description = "fuzz Svm" },
        };
    }

    private static (int Offset, int Width, ulong Value) Mutation(Random rng, byte[] vmcb)
    {
        var offset = rng.Next(10) switch
        {
            < 5 => rng.Next(0x100),
            < 9 => 0x400 + rng.Next(0x300),
            _ => rng.Next(VmcbLayout.Size),
        };
        var width = new[] { 1, 4, 8 }[rng.Next(3)];
        offset = Math.Min(offset & ~(width - 1), VmcbLayout.Size - width);
        var old = BinaryPrimitives.ReadUInt64LittleEndian(vmcb.AsSpan(Math.Min(offset, VmcbLayout.Size - 8)));
        var value = rng.Next(4) switch
        {
            0 or 1 => old ^ (1UL << rng.Next(width * 8)),
            2 => RandomCode.Value(rng),
            _ => 0UL,
        };
        return (offset, width, value);
    }

    private static void Apply(byte[] vmcb, (int Offset, int Width, ulong Value) m)
    {
        for (var i = 0; i < m.Width; i++) vmcb[m.Offset + i] = (byte)(m.Value >> (8 * i));
    }

    private static byte[] Baseline(ulong pml4, bool real, ulong ncr3, Random rng)
    {
        var v = new byte[VmcbLayout.Size];
        void W(int offset, ulong value, int width = 8)
        {
            for (var i = 0; i < width; i++) v[offset + i] = (byte)(value >> (8 * i));
        }
        void Segment(int offset, ushort selector, ushort attributes, uint limit, ulong @base)
        {
            W(offset + VmcbLayout.SegmentSelector, selector, 2);
            W(offset + VmcbLayout.SegmentAttrib, attributes, 2);
            W(offset + VmcbLayout.SegmentLimit, limit, 4);
            W(offset + VmcbLayout.SegmentBase, @base);
        }
        W(VmcbLayout.InterceptMisc2, 1 | (rng.Next(2) == 0 ? (ulong)rng.Next() : 0), 4);
        W(VmcbLayout.InterceptMisc1, rng.Next(2) == 0 ? (ulong)(uint)rng.Next() | (1UL << 24) : 1UL << 24, 4);
        if (rng.Next(3) == 0) W(VmcbLayout.InterceptExceptions, (ulong)(uint)rng.Next(), 4);
        if (rng.Next(3) == 0) W(VmcbLayout.InterceptCr, (ulong)(uint)rng.Next(), 4);
        W(VmcbLayout.GuestAsid, 1, 4);
        W(VmcbLayout.IopmBasePa, Iopm);
        W(VmcbLayout.MsrpmBasePa, Msrpm);
        if (ncr3 != 0)
        {
            W(VmcbLayout.NpEnable, 1);
            W(VmcbLayout.NCr3, ncr3);
        }
        W(VmcbLayout.Dr6, 0xFFFF0FF0);
        W(VmcbLayout.Dr7, 0x400);
        W(VmcbLayout.GPat, 0x0007_0406_0007_0406UL);
        W(VmcbLayout.Rflags, 2);
        if (real)
        {
            W(VmcbLayout.Efer, 0x1000);
            W(VmcbLayout.Cr0, 0x30);
            Segment(VmcbLayout.Cs, FuzzLayout.CodeSegment, 0x9B, 0xFFFF, FuzzLayout.Code);
            foreach (var s in new[] { VmcbLayout.Ds, VmcbLayout.Es, VmcbLayout.Ss, VmcbLayout.Fs, VmcbLayout.Gs })
                Segment(s, 0, 0x93, 0xFFFF, 0);
            Segment(VmcbLayout.Tr, 0, 0x8B, 0xFFFF, 0);
            Segment(VmcbLayout.Idtr, 0, 0, 0x3FF, 0);
            Segment(VmcbLayout.Gdtr, 0, 0, 0xFFFF, 0);
            W(VmcbLayout.Rsp, FuzzLayout.RealModeStack);
        }
        else
        {
            W(VmcbLayout.Efer, 0x1D00);
            W(VmcbLayout.Cr0, 0x8000_0031);
            W(VmcbLayout.Cr3, pml4);
            W(VmcbLayout.Cr4, 0x20);
            Segment(VmcbLayout.Cs, FuzzLayout.Code64, 0xA9B, 0xFFFF_FFFF, 0);
            foreach (var s in new[] { VmcbLayout.Ds, VmcbLayout.Es, VmcbLayout.Ss, VmcbLayout.Fs, VmcbLayout.Gs })
                Segment(s, FuzzLayout.Data32, 0xC93, 0xFFFF_FFFF, 0);
            Segment(VmcbLayout.Tr, FuzzLayout.TssSelector, 0x8B, FuzzLayout.TssIoBitmapOffset + 0x2000, FuzzLayout.Tss);
            Segment(VmcbLayout.Gdtr, 0, 0, FuzzLayout.GdtEntries * 8 - 1, FuzzLayout.Gdt);
            Segment(VmcbLayout.Idtr, 0, 0, 0xFFF, FuzzLayout.Idt);
            W(VmcbLayout.Rsp, FuzzLayout.KernelStack - 0x2000);
            W(VmcbLayout.Rip, FuzzLayout.Code);
        }
        return v;
    }

    private static void Prolog(Assembler a, ulong pml4)
    {
        a.mov(rsp, FuzzLayout.HostStack);
        a.lgdt(__[FuzzLayout.Gdtr]);
        a.lidt(__[FuzzLayout.HostIdtr]);
        a.mov(rax, pml4);
        a.mov(cr3, rax);
        a.mov(ax, FuzzLayout.TssSelector);
        a.ltr(ax);
        a.push((int)FuzzLayout.Code64);
        a.push((int)(FuzzLayout.Prolog + 0x80));
        a.db(0x48, 0xCB); // RETFQ
    }

    /// <summary>EFER.SVME, VM_HSAVE_PA and GIF = 1, then the VMRUN loop; the host fault handler comes here too.</summary>
    private static void Restart(Assembler a, ulong loop)
    {
        a.mov(rsp, FuzzLayout.HostStack);
        a.mov(ecx, 0xC000_0080);
        a.rdmsr();
        a.or(eax, 1 << 12);
        a.wrmsr();
        a.mov(ecx, SvmMsr.VmHsavePa);
        a.mov(eax, (uint)Hsave);
        a.xor(edx, edx);
        a.wrmsr();
        a.stgi();
        VmxGuest.JumpTo(a, loop);
    }

    private static void RunLoop(Assembler a, Random rng)
    {
        var loop = a.CreateLabel();
        var noRestore = a.CreateLabel();
        a.Label(ref loop);
        a.mov(rax, Vmcb);
        a.vmrun();
        a.mov(rsp, FuzzLayout.HostStack);
        a.inc(__dword_ptr[FuzzLayout.Counter]);
        a.mov(eax, __dword_ptr[FuzzLayout.Counter]);
        a.test(eax, 15);
        a.jnz(noRestore);
        a.mov(rsi, BaselineCopy);
        a.mov(rdi, Vmcb);
        a.mov(ecx, VmcbLayout.Size);
        a.rep.movsb();
        a.Label(ref noRestore);
        a.mov(eax, __dword_ptr[FuzzLayout.Counter]);
        a.and(eax, FuzzLayout.ResumePoints - 1);
        a.mov(rbx, __qword_ptr[rax * 8 + (int)FuzzLayout.ResumeTable]);
        a.mov(__qword_ptr[Vmcb + VmcbLayout.Rip], rbx);
        a.mov(eax, __dword_ptr[FuzzLayout.Counter]);
        a.and(eax, Mutations / 2 - 1);
        a.shl(eax, 5);
        a.lea(rsi, __[rax + (int)MutationTable]);
        for (var i = 0; i < 2; i++) Mutate(a, i * 16);
        for (var n = rng.Next(4); n > 0; n--) RandomSvmInstruction(a, rng);
        a.jmp(loop);
    }

    /// <summary>Writes the value of the mutation at [RSI + <paramref name="entry"/>] to the VMCB at its offset with its width.</summary>
    private static void Mutate(Assembler a, int entry)
    {
        var notByte = a.CreateLabel();
        var notDword = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(ecx, __dword_ptr[rsi + entry]);
        a.mov(edx, __dword_ptr[rsi + entry + 4]);
        a.mov(rbx, __qword_ptr[rsi + entry + 8]);
        a.mov(rdi, Vmcb);
        a.add(rdi, rcx);
        a.cmp(edx, 1);
        a.jne(notByte);
        a.mov(__byte_ptr[rdi], bl);
        a.jmp(done);
        a.Label(ref notByte);
        a.cmp(edx, 4);
        a.jne(notDword);
        a.mov(__dword_ptr[rdi], ebx);
        a.jmp(done);
        a.Label(ref notDword);
        a.mov(__qword_ptr[rdi], rbx);
        a.Label(ref done);
    }

    private static void RandomSvmInstruction(Assembler a, Random rng)
    {
        a.mov(rax, rng.Next(3) switch { 0 => Vmcb, 1 => SecondVmcb, _ => RandomCode.Value(rng) });
        switch (rng.Next(8))
        {
            case 0: a.vmload(); break;
            case 1: a.vmsave(); break;
            case 2: a.clgi(); break;
            case 3: a.stgi(); break;
            case 4:
                a.mov(ecx, rng.Next(4));
                a.invlpga();
                break;
            case 5: a.vmmcall(); break;
            case 6 when rng.Next(4) == 0: a.skinit(); break;
            default:
                a.mov(ecx, rng.Next(2) == 0 ? SvmMsr.VmHsavePa : 0xC001_0114u);
                a.rdmsr();
                break;
        }
    }
}
