using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

/// <summary>
/// Assembles a Multiboot guest that runs <see cref="XsaveCase"/>s in 32-bit protected mode or, entered through its own GDT and
/// identity-mapping page tables, in 64-bit mode, with CR4.OSFXSR, OSXMMEXCPT and OSXSAVE set and XCR0 = 7 (x87, SSE, AVX). Each case
/// starts with FXRSTOR of its image and writes to port E9h a record: the save area after the case's save (<see cref="XsaveCase.AreaBytes"/>), the XSAVE64
/// (XSAVE outside 64-bit mode) report of the whole state at the end (same size, its area first filled with <see cref="ReportFill"/>), XGETBV(1)
/// after the step and after the second XRSTOR. Port F4h (QEMU, sim) or "Shutdown" on port 8900h (Bochs) ends the run.
/// </summary>
public static class XsaveGuestBuilder
{
    public const int SaveOffset = 0;
    public const int ReportOffset = XsaveCase.AreaBytes;
    public const int XinuseOffset = 2 * XsaveCase.AreaBytes;
    public const int RecordBytes = XinuseOffset + 16;
    public const byte ReportFill = 0x5A;
    private const uint RecordOffset = 0x1000;
    private const uint CasesOffset = 0x1000 + 0x700;
    private const int CaseBytes = 2 * XsaveCase.AreaBytes;

    private static uint ImageAddress(int index) => DataLayout.LoadAddress + CasesOffset + (uint)(index * CaseBytes);

    private static uint SaveAddress(int index) => ImageAddress(index) + XsaveCase.AreaBytes;

    public static Guest Build(IReadOnlyList<XsaveCase> cases, bool long64 = true)
    {
        var load = DataLayout.LoadAddress;
        var record = load + RecordOffset;
        var tablesOffset = SimdGuestFrame.TablesOffset(CasesOffset + (uint)(cases.Count * CaseBytes));
        var codeOffset = SimdGuestFrame.CodeOffset(tablesOffset);
        var a = SimdGuestFrame.CaseCode(long64);
        a.mov(ebx, record);
        var area = long64 ? __[rsi] : __[esi];
        foreach (var c in cases)
        {
            a.mov(esi, ImageAddress(c.Index));
            // FXRSTOR first, so that x87, MXCSR and XMM do not carry over from the previous case (AVX does).
            if (long64) a.fxrstor64(area);
            else a.fxrstor(area);
            a.mov(eax, (uint)c.RestoreMask);
            a.xor(edx, edx);
            if (long64) a.xrstor64(area);
            else a.xrstor(area);
            switch (c.Step)
            {
                case XsaveStep.ZeroXmm:
                    var x = new AssemblerRegisterXMM(Register.XMM0 + (long64 ? c.StepRegister : c.StepRegister & 7));
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
            StoreXinuse(a, long64, XinuseOffset);
            a.mov(esi, SaveAddress(c.Index));
            a.mov(eax, (uint)c.SaveMask);
            a.xor(edx, edx);
            // Outside 64-bit mode there is no REX.W: the "64" forms run as their 32-bit-format selves.
            switch (c.Form)
            {
                case XsaveForm.Xsave64 when long64: a.xsave64(area); break;
                case XsaveForm.Xsave64 or XsaveForm.Xsave: a.xsave(area); break;
                case XsaveForm.Xsaveopt64: if (long64) a.xsaveopt64(area); else a.xsaveopt(area); break;
                case XsaveForm.Xsavec64: if (long64) a.xsavec64(area); else a.xsavec(area); break;
                case XsaveForm.Xsaves64: if (long64) a.xsaves64(area); else a.xsaves(area); break;
            }
            a.mov(eax, (uint)c.SecondMask);
            a.xor(edx, edx);
            if (c.Form == XsaveForm.Xsaves64) { if (long64) a.xrstors64(area); else a.xrstors(area); }
            else if (long64 && c.Form != XsaveForm.Xsave) a.xrstor64(area);
            else a.xrstor(area);
            StoreXinuse(a, long64, XinuseOffset + 8);
            a.lea(edi, __[ebx + ReportOffset]);
            a.mov(ecx, XsaveCase.AreaBytes);
            a.mov(al, ReportFill);
            a.rep.stosb();
            a.mov(eax, 7);
            a.xor(edx, edx);
            if (long64) a.xsave64(__[rbx + ReportOffset]);
            else a.xsave(__[ebx + ReportOffset]);
            a.mov(edi, ebx);
            a.mov(ecx, XsaveCase.AreaBytes);
            a.rep.movsb();
            a.mov(esi, ebx);
            a.mov(ecx, RecordBytes);
            a.mov(edx, 0xE9);
            a.rep.outsb();
        }
        SimdGuestFrame.EmitEnd(a);
        var guest = SimdGuestFrame.Image(a, tablesOffset, codeOffset, long64, true);
        foreach (var c in cases)
        {
            c.Image.CopyTo(guest, (int)(ImageAddress(c.Index) - load));
            c.SaveArea.CopyTo(guest, (int)(SaveAddress(c.Index) - load));
        }
        return SimdGuestFrame.Guest(guest, long64);
    }

    /// <summary>XGETBV(1) into the record at <paramref name="offset"/> (8 bytes; XINUSE's upper half is EDX).</summary>
    private static void StoreXinuse(Assembler a, bool long64, int offset)
    {
        a.mov(ecx, 1);
        a.xgetbv();
        if (long64) a.mov(__qword_ptr[rbx + offset], rax);
        else
        {
            a.mov(__dword_ptr[ebx + offset], eax);
            a.mov(__dword_ptr[ebx + offset + 4], edx);
        }
    }

}
