using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// A CPU-bound guest (a byte-array sieve, a checksum loop and calls) on a bare processor, in real
/// mode (16), flat 32-bit protected mode (32) or 64-bit mode (64); the unit of the interpreter benchmarks.
/// </summary>
public static class InterpreterWorkload
{
    private const ulong Array = 0x20000;

    public static GuestLoop Create(int bitness) =>
        new($"{bitness}-bit workload", bitness, Assemble(bitness), 32 << 20, realModeDataBase: Array);

    private static byte[] Assemble(int bitness)
    {
        var a = new Assembler(bitness);
        var outer = a.CreateLabel();
        var clear = a.CreateLabel();
        var sieve = a.CreateLabel();
        var mark = a.CreateLabel();
        var next = a.CreateLabel();
        var sum = a.CreateLabel();
        var mix = a.CreateLabel();
        var top = a.CreateLabel();
        if (bitness == 16)
        {
            // Real mode: the code at 1000:0000, a 32 KiB array at 2000:0000 addressed through BX and SI.
            a.Label(ref top);
            a.mov(cx, 32768);
            a.Label(ref clear);
            a.mov(bx, cx);
            a.mov(__byte_ptr[bx - 1], 1);
            a.dec(cx);
            a.jnz(clear);
            a.mov(bx, 2);
            a.Label(ref sieve);
            a.cmp(__byte_ptr[bx], 0);
            a.je(next);
            a.mov(ax, bx);
            a.imul(ax, bx);
            a.Label(ref mark);
            a.cmp(ax, 32768);
            a.jae(next);
            a.mov(si, ax);
            a.mov(__byte_ptr[si], 0);
            a.add(ax, bx);
            a.jmp(mark);
            a.Label(ref next);
            a.inc(bx);
            a.cmp(bx, 181);
            a.jb(sieve);
            a.xor(dx, dx);
            a.mov(cx, 32768);
            a.Label(ref sum);
            a.mov(bx, cx);
            a.movzx(ax, __byte_ptr[bx - 1]);
            a.call(mix);
            a.dec(cx);
            a.jnz(sum);
            a.jmp(top);
            a.Label(ref mix);
            a.imul(dx, dx, 31);
            a.add(dx, ax);
            a.ret();
        }
        else
        {
            // The same program in 32- and 64-bit code; only the width of the address registers differs.
            AssemblerMemoryOperand Element(AssemblerRegister32 index32, AssemblerRegister64 index64, int displacement) =>
                bitness == 64 ? __byte_ptr[rdi + index64 + displacement] : __byte_ptr[edi + index32 + displacement];
            a.Label(ref top);
            a.mov(edi, (uint)Array);
            a.mov(ecx, 65536);
            a.Label(ref clear);
            a.mov(Element(ecx, rcx, -1), 1);
            a.dec(ecx);
            a.jnz(clear);
            a.mov(ebx, 2);
            a.Label(ref sieve);
            a.cmp(Element(ebx, rbx, 0), 0);
            a.je(next);
            a.mov(eax, ebx);
            a.imul(eax, ebx);
            a.Label(ref mark);
            a.cmp(eax, 65536);
            a.jae(next);
            a.mov(Element(eax, rax, 0), 0);
            a.add(eax, ebx);
            a.jmp(mark);
            a.Label(ref next);
            a.inc(ebx);
            a.cmp(ebx, 256);
            a.jb(sieve);
            a.xor(edx, edx);
            a.mov(ecx, 65536);
            a.Label(ref sum);
            a.movzx(eax, Element(ecx, rcx, -1));
            a.call(mix);
            a.dec(ecx);
            a.jnz(sum);
            a.jmp(top);
            a.Label(ref mix);
            a.imul(edx, edx, 31);
            a.add(edx, eax);
            a.ret();
        }
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), bitness == 16 ? 0 : GuestLoop.Code);
        return stream.ToArray();
    }
}
