using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

/// <summary>
/// Assembles a Multiboot guest that runs SIMD cases in 32-bit protected mode: it sets CR4.OSFXSR and OSXMMEXCPT
/// and clears CR0.EM and TS; each case loads its state with FXRSTOR, runs, and writes to port E9h a record of the
/// FXSAVE image, EFLAGS, EAX, ECX, EDX, EBX and its 64-byte memory block. Port F4h ends the run.
/// </summary>
public static class SimdGuestBuilder
{
    public const int RecordBytes = 512 + 32 + 64;
    private const uint RecordOffset = 0x1000;
    private const uint CasesOffset = 0x1400;
    private const int CaseBytes = 512 + 64;
    private const uint StackTop = 0x90000;

    public static uint MemoryAddress(int index) => DataLayout.LoadAddress + CasesOffset + (uint)(index * CaseBytes) + 512;

    public static Guest Build(IReadOnlyList<SimdCase> cases)
    {
        var load = DataLayout.LoadAddress;
        var record = load + RecordOffset;
        var codeOffset = (CasesOffset + (uint)(cases.Count * CaseBytes) + 0xFFF) & ~0xFFFu;
        var a = new Assembler(32);
        a.mov(esp, StackTop);
        a.mov(eax, cr0);
        a.and(eax, ~0xC);
        a.or(eax, 0x22);
        a.mov(cr0, eax);
        a.mov(eax, cr4);
        a.or(eax, 0x600);
        a.mov(cr4, eax);
        foreach (var c in cases)
        {
            var block = load + CasesOffset + (uint)(c.Index * CaseBytes);
            a.fxrstor(__[block]);
            a.mov(eax, c.Registers[0]);
            a.mov(ecx, c.Registers[1]);
            a.mov(edx, c.Registers[2]);
            a.mov(ebx, c.Registers[3]);
            a.push(c.Flags);
            a.popfd();
            foreach (var i in c.Instructions) a.AddInstruction(i);
            a.pushfd();
            a.pop(__dword_ptr[record + 512]);
            a.mov(__dword_ptr[record + 516], eax);
            a.mov(__dword_ptr[record + 520], ecx);
            a.mov(__dword_ptr[record + 524], edx);
            a.mov(__dword_ptr[record + 528], ebx);
            a.fxsave(__[record]);
            a.mov(esi, block + 512);
            a.mov(edi, record + 544);
            a.mov(ecx, 16);
            a.rep.movsd();
            a.mov(esi, record);
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
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), load + codeOffset);
        var code = stream.ToArray();

        var image = new byte[codeOffset + code.Length];
        const uint magic = 0x1BADB002, flags = 0x00010000;
        uint[] header = [magic, flags, unchecked(0u - magic - flags), load, load, load + (uint)image.Length, load + (uint)image.Length, load + 0x20];
        for (var i = 0; i < header.Length; i++) BitConverter.TryWriteBytes(image.AsSpan(i * 4), header[i]);
        // At the entry point: JMP rel32 to the code.
        image[0x20] = 0xE9;
        BitConverter.TryWriteBytes(image.AsSpan(0x21), (int)(codeOffset - 0x25));
        foreach (var c in cases)
        {
            var at = (int)(CasesOffset + c.Index * CaseBytes);
            c.Image.CopyTo(image, at);
            c.Memory.CopyTo(image, at + 512);
        }
        code.CopyTo(image, codeOffset);
        return new Guest { Mode = GuestMode.Protected32, Image = image, EntryPoint = load + 0x20, Cases = [] };
    }
}
