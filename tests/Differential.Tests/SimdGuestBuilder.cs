using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

/// <summary>
/// Assembles a Multiboot guest that runs SIMD cases in 32-bit protected mode or, entered through its own GDT and
/// identity-mapping page tables, in 64-bit mode. It sets CR4.OSFXSR and OSXMMEXCPT and clears CR0.EM and TS; each
/// case loads its state with FXRSTOR (FXRSTOR64), runs, and writes to port E9h a record: the FXSAVE (FXSAVE64) image,
/// EFLAGS, the general registers the case uses (8 bytes each) and its 64-byte memory block. Port F4h (QEMU, sim) or
/// "Shutdown" on port 8900h (Bochs) ends the run. An AVX guest also sets CR4.OSXSAVE and XCR0 = 7 (x87, SSE, AVX state),
/// loads bits 255:128 of each YMM register from the case after FXRSTOR (VINSERTF128) and records them after the FXSAVE
/// image's fields (VEXTRACTF128), <see cref="UpperOffset"/> on. A guest built with <c>faults</c> (the x87 cases, whose
/// unmasked exceptions raise #MF) runs each case as a subroutine, with an IDT whose handlers for vectors 0–31 write
/// the vector to the record's R8 slot (<see cref="VectorOffset"/>; all ones when nothing faulted) and return from the
/// case's subroutine with the stack pointer it had on entry; its 32-bit cases run on the frame's flat code segment (18h).
/// </summary>
public static class SimdGuestBuilder
{
    public const int RecordBytes = 640;
    public const int FlagsOffset = 512;
    public const int RegistersOffset = 520;
    public const int MemoryOffset = 576;

    /// <summary>Of a guest built with faults: the vector of the fault that ended a case, 8 bytes in place of R8.</summary>
    public const int VectorOffset = RegistersOffset + 32;
    private const uint SavedStackOffset = 0x2E0;
    private const uint IdtrOffset = 0x2F0;
    private const uint IdtOffset = 0x300;
    private const uint HandlersOffset = 0x600;

    /// <summary>The record of an AVX guest: the 640 bytes above, then bits 255:128 of YMM0–15, 16 bytes each.</summary>
    public const int AvxRecordBytes = 896;
    public const int UpperOffset = 640;
    private const uint RecordOffset = 0x1000;
    private const uint CasesOffset = 0x1400;
    private const int CaseBytes = 512 + 64;

    /// <summary>An AVX case adds the upper halves of its YMM registers (16 × 16 bytes) after its memory block.</summary>
    private const int AvxCaseBytes = CaseBytes + 256;

    public static int RecordBytesOf(bool avx) => avx ? AvxRecordBytes : RecordBytes;

    /// <summary>The case's 64-byte memory block: 32-byte aligned, so that the aligned 256-bit forms do not fault either.</summary>
    public static uint MemoryAddress(int index, bool avx = false) => DataLayout.LoadAddress + CasesOffset + (uint)(index * (avx ? AvxCaseBytes : CaseBytes)) + 512;

    public static Guest Build(IReadOnlyList<SimdCase> cases, bool long64 = false, bool avx = false, bool faults = false)
    {
        var caseBytes = avx ? AvxCaseBytes : CaseBytes;
        var recordBytes = RecordBytesOf(avx);
        var load = DataLayout.LoadAddress;
        var record = load + RecordOffset;
        var tablesOffset = SimdGuestFrame.TablesOffset(CasesOffset + (uint)(cases.Count * caseBytes));
        var codeOffset = SimdGuestFrame.CodeOffset(tablesOffset);
        var a = SimdGuestFrame.CaseCode(long64, flat32: faults);
        if (faults) a.lidt(__[load + IdtrOffset]);
        var gprs = long64 ? new AssemblerRegister64[] { rax, rcx, rdx, rbx, r8, r9, r10 } : null;
        var gprs32 = new AssemblerRegister32[] { eax, ecx, edx, ebx };
        foreach (var c in cases)
        {
            var block = load + CasesOffset + (uint)(c.Index * caseBytes);
            var call = a.CreateLabel();
            var body = a.CreateLabel();
            if (faults)
            {
                a.mov(__dword_ptr[record + VectorOffset], -1);
                a.mov(__dword_ptr[record + VectorOffset + 4], -1);
                a.jmp(call);
                a.Label(ref body);
                if (long64) a.mov(__qword_ptr[(ulong)load + SavedStackOffset], rsp);
                else a.mov(__dword_ptr[load + SavedStackOffset], esp);
            }
            if (long64) a.fxrstor64(__[(ulong)block]);
            else a.fxrstor(__[block]);
            var vectors = long64 ? 16 : 8;
            if (avx)
                for (var r = 0; r < vectors; r++) a.vinsertf128(Ymm(r), Ymm(r), __xmmword_ptr[(ulong)block + CaseBytes + (ulong)(16 * r)], 1);
            for (var r = 0; r < c.Registers.Length; r++)
            {
                if (long64) a.mov(gprs![r], c.Registers[r]);
                else a.mov(gprs32[r], (uint)c.Registers[r]);
            }
            if (long64)
            {
                a.push((int)c.Flags);
                a.popfq();
            }
            else
            {
                a.push(c.Flags);
                a.popfd();
            }
            foreach (var i in c.Instructions) a.AddInstruction(i);
            if (faults)
            {
                a.ret();
                a.Label(ref call);
                a.call(body);
            }
            if (long64)
            {
                a.pushfq();
                a.pop(__qword_ptr[(ulong)record + FlagsOffset]);
                for (var r = 0; r < c.Registers.Length; r++) a.mov(__qword_ptr[(ulong)record + RegistersOffset + (ulong)(8 * r)], gprs![r]);
                a.fxsave64(__[(ulong)record]);
                a.mov(esi, block + 512);
                a.mov(edi, record + MemoryOffset);
            }
            else
            {
                a.pushfd();
                a.pop(__dword_ptr[record + FlagsOffset]);
                for (var r = 0; r < c.Registers.Length; r++) a.mov(__dword_ptr[record + RegistersOffset + (uint)(8 * r)], gprs32[r]);
                a.fxsave(__[record]);
                a.mov(esi, block + 512);
                a.mov(edi, record + MemoryOffset);
            }
            a.mov(ecx, 16);
            a.rep.movsd();
            if (avx)
                for (var r = 0; r < vectors; r++) a.vextractf128(__xmmword_ptr[(ulong)record + UpperOffset + (ulong)(16 * r)], Ymm(r), 1);
            a.mov(esi, record);
            a.mov(ecx, recordBytes);
            a.mov(edx, 0xE9);
            a.rep.outsb();
        }
        SimdGuestFrame.EmitEnd(a);
        var image = SimdGuestFrame.Image(a, tablesOffset, codeOffset, long64, avx, flat32: faults);
        if (faults) AddFaultHandlers(image, long64, load, record);
        foreach (var c in cases)
        {
            var at = (int)(CasesOffset + c.Index * caseBytes);
            c.Image.CopyTo(image, at);
            c.Memory.CopyTo(image, at + 512);
            c.Upper?.CopyTo(image, at + CaseBytes);
        }
        return SimdGuestFrame.Guest(image, long64);
    }

    private static AssemblerRegisterYMM Ymm(int r) => new(Register.YMM0 + r);

    /// <summary>The fault handlers (one entry per vector pushes its number, then all record it and return from the case's subroutine) and the IDT of interrupt gates to them.</summary>
    private static void AddFaultHandlers(byte[] image, bool long64, uint load, uint record)
    {
        var a = new Assembler(long64 ? 64 : 32);
        var common = a.CreateLabel();
        var labels = new Label[32];
        for (var v = 0; v < labels.Length; v++)
        {
            labels[v] = a.CreateLabel();
            a.Label(ref labels[v]);
            a.push(v);
            a.jmp(common);
        }
        a.Label(ref common);
        if (long64)
        {
            a.pop(rax);
            a.mov(__qword_ptr[(ulong)record + VectorOffset], rax);
            a.mov(rsp, __qword_ptr[(ulong)load + SavedStackOffset]);
        }
        else
        {
            a.pop(eax);
            a.mov(__dword_ptr[record + VectorOffset], eax);
            a.mov(__dword_ptr[record + VectorOffset + 4], 0);
            a.mov(esp, __dword_ptr[load + SavedStackOffset]);
        }
        a.ret();
        var stream = new MemoryStream();
        var result = a.Assemble(new StreamCodeWriter(stream), load + HandlersOffset, BlockEncoderOptions.ReturnNewInstructionOffsets);
        if (stream.Length > RecordOffset - HandlersOffset) throw new InvalidOperationException("fault handlers too large");
        stream.ToArray().CopyTo(image, HandlersOffset);
        var gate = long64 ? 16 : 8;
        for (var v = 0; v < labels.Length; v++)
        {
            var entry = (uint)result.GetLabelRIP(labels[v]);
            var at = (int)IdtOffset + gate * v;
            BitConverter.TryWriteBytes(image.AsSpan(at), (ushort)entry);
            BitConverter.TryWriteBytes(image.AsSpan(at + 2), (ushort)(long64 ? SimdGuestFrame.Code64Selector : SimdGuestFrame.Code32Selector));
            BitConverter.TryWriteBytes(image.AsSpan(at + 4), (ushort)0x8E00);
            BitConverter.TryWriteBytes(image.AsSpan(at + 6), (ushort)(entry >> 16));
        }
        BitConverter.TryWriteBytes(image.AsSpan((int)IdtrOffset), (ushort)(gate * labels.Length - 1));
        BitConverter.TryWriteBytes(image.AsSpan((int)IdtrOffset + 2), load + IdtOffset);
    }

}
