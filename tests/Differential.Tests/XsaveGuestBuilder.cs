using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

/// <summary>
/// Assembles a Multiboot guest that runs <see cref="XsaveCase"/>s in 64-bit mode, entered through its own GDT and
/// identity-mapping page tables, with CR4.OSFXSR, OSXMMEXCPT and OSXSAVE set and XCR0 = 7 (x87, SSE, AVX). Each case
/// starts with FXRSTOR64 of its image and writes to port E9h a record: the save area after the case's save (<see cref="XsaveCase.AreaBytes"/>), the XSAVE64
/// report of the whole state at the end (same size, its area first filled with <see cref="ReportFill"/>), XGETBV(1)
/// after the step and after the second XRSTOR. Port F4h (QEMU, sim) or "Shutdown" on port 8900h (Bochs) ends the run.
/// </summary>
public static class XsaveGuestBuilder
{
    public const int SaveOffset = 0;
    public const int ReportOffset = XsaveCase.AreaBytes;
    public const int XinuseOffset = 2 * XsaveCase.AreaBytes;
    public const int RecordBytes = XinuseOffset + 16;
    public const byte ReportFill = 0x5A;
    private const uint GdtOffset = 0x200;
    private const uint RecordOffset = 0x1000;
    private const uint CasesOffset = 0x1000 + 0x700;
    private const int CaseBytes = 2 * XsaveCase.AreaBytes;
    private const uint StackTop = 0x90000;

    private static uint ImageAddress(int index) => DataLayout.LoadAddress + CasesOffset + (uint)(index * CaseBytes);

    private static uint SaveAddress(int index) => ImageAddress(index) + XsaveCase.AreaBytes;

    public static Guest Build(IReadOnlyList<XsaveCase> cases)
    {
        var load = DataLayout.LoadAddress;
        var record = load + RecordOffset;
        var tablesOffset = (CasesOffset + (uint)(cases.Count * CaseBytes) + 0xFFF) & ~0xFFFu;
        var codeOffset = tablesOffset + 0x3000;
        var stub = new Assembler(32);
        stub.mov(esp, StackTop);
        stub.mov(eax, cr0);
        stub.and(eax, ~0xC);
        stub.or(eax, 0x22);
        stub.mov(cr0, eax);
        stub.mov(eax, cr4);
        stub.or(eax, 0x40620);
        stub.mov(cr4, eax);
        stub.lgdt(__[load + GdtOffset + 0x20]);
        stub.mov(eax, load + tablesOffset);
        stub.mov(cr3, eax);
        stub.mov(ecx, 0xC0000080);
        stub.rdmsr();
        stub.or(eax, 0x100);
        stub.wrmsr();
        stub.mov(eax, cr0);
        stub.or(eax, unchecked((int)0x80000000));
        stub.mov(cr0, eax);
        stub.jmp(0x08, load + codeOffset);

        var a = new Assembler(64);
        a.mov(ax, 0x10);
        a.mov(ss, ax);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.xor(ecx, ecx);
        a.xor(edx, edx);
        a.mov(eax, 7);
        a.xsetbv();
        a.mov(rbx, (ulong)record);
        foreach (var c in cases)
        {
            var image = (ulong)ImageAddress(c.Index);
            var save = (ulong)SaveAddress(c.Index);
            a.mov(rsi, image);
            // FXRSTOR first, so that x87, MXCSR and XMM do not carry over from the previous case (AVX does).
            a.fxrstor64(__[rsi]);
            a.mov(eax, (uint)c.RestoreMask);
            a.xor(edx, edx);
            a.xrstor64(__[rsi]);
            switch (c.Step)
            {
                case XsaveStep.ZeroXmm:
                    var x = new AssemblerRegisterXMM(Register.XMM0 + c.StepRegister);
                    a.pxor(x, x);
                    break;
                case XsaveStep.WriteXmm0:
                    a.mov(eax, 1);
                    a.movd(xmm0, eax);
                    break;
                case XsaveStep.Fld1:
                    // ST7 emptied first: QEMU 7.2 has no x87 stack-overflow check.
                    a.ffree(st7);
                    a.fld1();
                    break;
                case XsaveStep.Fninit:
                    a.fninit();
                    break;
            }
            a.mov(ecx, 1);
            a.xgetbv();
            a.mov(__qword_ptr[rbx + XinuseOffset], rax);
            a.mov(rsi, save);
            a.mov(eax, (uint)c.SaveMask);
            a.xor(edx, edx);
            switch (c.Form)
            {
                case XsaveForm.Xsave64: a.xsave64(__[rsi]); break;
                case XsaveForm.Xsave: a.xsave(__[rsi]); break;
                case XsaveForm.Xsaveopt64: a.xsaveopt64(__[rsi]); break;
                case XsaveForm.Xsavec64: a.xsavec64(__[rsi]); break;
                case XsaveForm.Xsaves64: a.xsaves64(__[rsi]); break;
            }
            a.mov(eax, (uint)c.SecondMask);
            a.xor(edx, edx);
            if (c.Form == XsaveForm.Xsave) a.xrstor(__[rsi]);
            else if (c.Form == XsaveForm.Xsaves64) a.xrstors64(__[rsi]);
            else a.xrstor64(__[rsi]);
            a.mov(ecx, 1);
            a.xgetbv();
            a.mov(__qword_ptr[rbx + XinuseOffset + 8], rax);
            a.lea(rdi, __[rbx + ReportOffset]);
            a.mov(ecx, XsaveCase.AreaBytes);
            a.mov(al, ReportFill);
            a.rep.stosb();
            a.mov(eax, 7);
            a.xor(edx, edx);
            a.xsave64(__[rbx + ReportOffset]);
            a.mov(rdi, rbx);
            a.mov(ecx, XsaveCase.AreaBytes);
            a.rep.movsb();
            a.mov(rsi, rbx);
            a.mov(ecx, RecordBytes);
            a.mov(edx, 0xE9);
            a.rep.outsb();
        }
        a.mov(al, 0);
        a.@out(0xF4, al);
        // QEMU and sim stop at port F4h; Bochs ignores it and stops at "Shutdown" on port 8900h.
        a.mov(dx, 0x8900);
        foreach (var ch in "Shutdown")
        {
            a.mov(al, (byte)ch);
            a.@out(dx, al);
        }
        var halt = a.CreateLabel();
        a.Label(ref halt);
        a.hlt();
        a.jmp(halt);
        var code = Assemble(a, load + codeOffset);
        var stubCode = Assemble(stub, load + 0x20);
        if (stubCode.Length > GdtOffset - 0x20) throw new InvalidOperationException("stub too large");

        var guest = new byte[codeOffset + code.Length];
        const uint magic = 0x1BADB002, flags = 0x00010000;
        uint[] header = [magic, flags, unchecked(0u - magic - flags), load, load, load + (uint)guest.Length, load + (uint)guest.Length, load + 0x20];
        for (var i = 0; i < header.Length; i++) BitConverter.TryWriteBytes(guest.AsSpan(i * 4), header[i]);
        stubCode.CopyTo(guest, 0x20);
        BitConverter.TryWriteBytes(guest.AsSpan((int)GdtOffset + 8), 0x00AF9B000000FFFFUL);
        BitConverter.TryWriteBytes(guest.AsSpan((int)GdtOffset + 16), 0x00CF93000000FFFFUL);
        BitConverter.TryWriteBytes(guest.AsSpan((int)GdtOffset + 0x20), (ushort)0x17);
        BitConverter.TryWriteBytes(guest.AsSpan((int)GdtOffset + 0x22), load + GdtOffset);
        BitConverter.TryWriteBytes(guest.AsSpan((int)tablesOffset), (ulong)(load + tablesOffset + 0x1000) | 3);
        BitConverter.TryWriteBytes(guest.AsSpan((int)tablesOffset + 0x1000), (ulong)(load + tablesOffset + 0x2000) | 3);
        for (var i = 0; i < 512; i++) BitConverter.TryWriteBytes(guest.AsSpan((int)tablesOffset + 0x2000 + 8 * i), ((ulong)i << 21) | 0x83);
        foreach (var c in cases)
        {
            c.Image.CopyTo(guest, (int)(ImageAddress(c.Index) - load));
            c.SaveArea.CopyTo(guest, (int)(SaveAddress(c.Index) - load));
        }
        code.CopyTo(guest, codeOffset);
        return new Guest { Mode = GuestMode.Long64, Image = guest, EntryPoint = load + 0x20, Cases = [] };
    }

    private static byte[] Assemble(Assembler a, ulong address)
    {
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }
}
