using System.Text;
using Iced.Intel;
using Sim.Images.Guests;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Platform.Tests.Firmware;

/// <summary>
/// A 32-bit Multiboot kernel that reads fw_cfg through the traditional ports and through DMA and prints
/// what it finds on port E9h, one "name=value" line each, then writes 0 to port F4h. The same kernel runs
/// on sim and on QEMU (-kernel), so that the two outputs can be compared line by line.
/// </summary>
internal static class FwCfgGuest
{
    public const uint LoadAddress = 0x100000;
    private const uint StringsAddress = LoadAddress + 0x2000;
    private const uint Buffer = 0x200000;
    private const uint Directory = 0x210000;
    private const uint DmaAccess = 0x300000;
    private const uint E820Buffer = 0x302000;
    private const uint E820Select = 0x303000;
    private const uint E820Size = 0x303004;
    private const uint FileCount = 0x303008;

    public static byte[] Kernel() => MultibootKernel.Create(Assemble(), LoadAddress);

    private static byte[] Assemble()
    {
        var a = new Assembler(32);
        // The strings go at a fixed address after the code: 32-bit code cannot take a label's address as an operand.
        var strings = new MemoryStream();
        var offsets = new Dictionary<string, uint>();
        uint Str(string s)
        {
            if (!offsets.TryGetValue(s, out var offset))
            {
                offsets[s] = offset = (uint)strings.Length;
                strings.Write(Encoding.ASCII.GetBytes(s + "\0"));
            }
            return StringsAddress + offset;
        }
        Label putc = a.CreateLabel(), puts = a.CreateLabel(), hex32 = a.CreateLabel(), newline = a.CreateLabel();
        Label select = a.CreateLabel(), read = a.CreateLabel(), dma = a.CreateLabel(), printFile = a.CreateLabel();

        void Print(string s)
        {
            a.mov(esi, Str(s));
            a.call(puts);
        }
        void Traditional(ushort key, int length)
        {
            a.mov(ax, key);
            a.call(select);
            a.mov(edi, Buffer);
            a.mov(ecx, length);
            a.call(read);
        }
        void Dma(uint control, uint length, uint to)
        {
            a.mov(eax, control);
            a.mov(ecx, length);
            a.mov(edi, to);
            a.call(dma);
        }

        a.mov(esp, 0x90000);
        a.cld();

        Traditional(0x00, 4);
        Print("sig=");
        a.mov(esi, Buffer);
        a.mov(__byte_ptr[Buffer + 4], 0);
        a.call(puts);
        a.call(newline);

        Traditional(0x01, 4);
        Print("id=");
        a.mov(eax, __dword_ptr[Buffer]);
        a.call(hex32);
        a.call(newline);

        Traditional(0x05, 2);
        Print("cpus=");
        a.movzx(eax, __word_ptr[Buffer]);
        a.call(hex32);
        a.call(newline);

        Traditional(0x0F, 2);
        Print("max=");
        a.movzx(eax, __word_ptr[Buffer]);
        a.call(hex32);
        a.call(newline);

        Traditional(0x03, 8);
        Print("ram=");
        a.mov(eax, __dword_ptr[Buffer + 4]);
        a.call(hex32);
        a.mov(eax, __dword_ptr[Buffer]);
        a.call(hex32);
        a.call(newline);

        // Four bytes of a two-byte item: the last two read as 0.
        Traditional(0x05, 4);
        Print("past=");
        a.mov(eax, __dword_ptr[Buffer]);
        a.call(hex32);
        a.call(newline);

        Traditional(0x19, 4);
        a.mov(eax, __dword_ptr[Buffer]);
        a.bswap(eax);
        a.mov(__dword_ptr[FileCount], eax);
        a.mov(__dword_ptr[E820Size], 0);
        var next = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(ebx, __dword_ptr[FileCount]);
        a.Label(ref next);
        a.test(ebx, ebx);
        a.jz(done);
        a.mov(edi, Buffer);
        a.mov(ecx, 64);
        a.call(read);
        a.mov(esi, Buffer);
        a.mov(edx, Str("file "));
        a.call(printFile);
        a.dec(ebx);
        a.jmp(next);
        a.Label(ref done);

        Print("dmasig=");
        a.mov(dx, 0x514);
        a.@in(eax, dx);
        a.mov(__dword_ptr[Buffer], eax);
        a.mov(dx, 0x518);
        a.@in(eax, dx);
        a.mov(__dword_ptr[Buffer + 4], eax);
        a.mov(__byte_ptr[Buffer + 8], 0);
        a.mov(esi, Buffer);
        a.call(puts);
        a.call(newline);

        Dma(0x0005_0000 | 0x08 | 0x02, 4, Buffer);
        Print("dma cpus=");
        a.mov(eax, __dword_ptr[Buffer]);
        a.call(hex32);
        a.call(newline);

        Dma(0x0003_0000 | 0x08 | 0x02, 8, Buffer);
        Print("dma ram=");
        a.mov(eax, __dword_ptr[Buffer + 4]);
        a.call(hex32);
        a.mov(eax, __dword_ptr[Buffer]);
        a.call(hex32);
        a.call(newline);

        Dma(0x0000_0000 | 0x08 | 0x04, 2, Buffer);
        a.mov(__dword_ptr[Buffer], 0);
        Dma(0x02, 2, Buffer);
        Print("dma skip=");
        a.mov(esi, Buffer);
        a.call(puts);
        a.call(newline);

        Dma(0x0019_0000 | 0x08 | 0x02, 4, Buffer);
        Print("dma status=");
        a.call(hex32);
        a.call(newline);
        a.mov(eax, __dword_ptr[Buffer]);
        a.bswap(eax);
        a.shl(eax, 6);
        a.mov(ecx, eax);
        a.mov(eax, 0x02);
        a.mov(edi, Directory);
        a.call(dma);
        var dnext = a.CreateLabel();
        var ddone = a.CreateLabel();
        a.mov(ebx, __dword_ptr[FileCount]);
        a.mov(esi, Directory);
        a.Label(ref dnext);
        a.test(ebx, ebx);
        a.jz(ddone);
        a.push(esi);
        a.mov(edx, Str("dma file "));
        a.call(printFile);
        a.pop(esi);
        a.add(esi, 64);
        a.dec(ebx);
        a.jmp(dnext);
        a.Label(ref ddone);

        // etc/e820 by DMA: each 20-byte entry as base, length, type.
        var noE820 = a.CreateLabel();
        var e820next = a.CreateLabel();
        a.mov(ecx, __dword_ptr[E820Size]);
        a.test(ecx, ecx);
        a.jz(noE820);
        a.mov(eax, __dword_ptr[E820Select]);
        a.shl(eax, 16);
        a.or(eax, 0x0A);
        a.mov(edi, E820Buffer);
        a.call(dma);
        a.mov(esi, E820Buffer);
        a.mov(ebx, __dword_ptr[E820Size]);
        a.Label(ref e820next);
        a.push(esi);
        Print("e820 ");
        a.pop(esi);
        a.mov(eax, __dword_ptr[esi + 4]);
        a.call(hex32);
        a.mov(eax, __dword_ptr[esi]);
        a.call(hex32);
        a.mov(al, (byte)' ');
        a.call(putc);
        a.mov(eax, __dword_ptr[esi + 12]);
        a.call(hex32);
        a.mov(eax, __dword_ptr[esi + 8]);
        a.call(hex32);
        a.mov(al, (byte)' ');
        a.call(putc);
        a.mov(eax, __dword_ptr[esi + 16]);
        a.call(hex32);
        a.call(newline);
        a.add(esi, 20);
        a.sub(ebx, 20);
        a.ja(e820next);
        a.Label(ref noE820);

        Print("end");
        a.call(newline);
        a.xor(eax, eax);
        a.@out(0xF4, al);
        var halt = a.CreateLabel();
        a.Label(ref halt);
        a.cli();
        a.hlt();
        a.jmp(halt);

        // putc: AL to port E9h.
        a.Label(ref putc);
        a.push(edx);
        a.mov(dx, 0xE9);
        a.@out(dx, al);
        a.pop(edx);
        a.ret();

        // puts: the NUL-terminated string at ESI.
        var putsLoop = a.CreateLabel();
        var putsDone = a.CreateLabel();
        a.Label(ref puts);
        a.push(esi);
        a.push(eax);
        a.Label(ref putsLoop);
        a.lodsb();
        a.test(al, al);
        a.jz(putsDone);
        a.call(putc);
        a.jmp(putsLoop);
        a.Label(ref putsDone);
        a.pop(eax);
        a.pop(esi);
        a.ret();

        // hex32: EAX as eight hex digits.
        var hexLoop = a.CreateLabel();
        var digit = a.CreateLabel();
        a.Label(ref hex32);
        a.push(eax);
        a.push(ecx);
        a.push(edx);
        a.mov(edx, eax);
        a.mov(ecx, 8);
        a.Label(ref hexLoop);
        a.rol(edx, 4);
        a.mov(al, dl);
        a.and(al, 0x0F);
        a.add(al, (byte)'0');
        a.cmp(al, (byte)'9');
        a.jbe(digit);
        a.add(al, 'a' - '0' - 10);
        a.Label(ref digit);
        a.call(putc);
        a.dec(ecx);
        a.jnz(hexLoop);
        a.pop(edx);
        a.pop(ecx);
        a.pop(eax);
        a.ret();

        a.Label(ref newline);
        a.push(eax);
        a.mov(al, (byte)'\n');
        a.call(putc);
        a.pop(eax);
        a.ret();

        // select: AX to the selector port.
        a.Label(ref select);
        a.push(edx);
        a.mov(dx, 0x510);
        a.@out(dx, ax);
        a.pop(edx);
        a.ret();

        // read: ECX bytes from the data port to EDI.
        var readLoop = a.CreateLabel();
        a.Label(ref read);
        a.push(edx);
        a.push(eax);
        a.mov(dx, 0x511);
        a.Label(ref readLoop);
        a.@in(al, dx);
        a.stosb();
        a.dec(ecx);
        a.jnz(readLoop);
        a.pop(eax);
        a.pop(edx);
        a.ret();

        // dma: control EAX, length ECX, address EDI; returns the control word the device wrote back in EAX.
        a.Label(ref dma);
        a.push(edx);
        a.bswap(eax);
        a.mov(__dword_ptr[DmaAccess], eax);
        a.bswap(ecx);
        a.mov(__dword_ptr[DmaAccess + 4], ecx);
        a.mov(__dword_ptr[DmaAccess + 8], 0);
        a.bswap(edi);
        a.mov(__dword_ptr[DmaAccess + 12], edi);
        a.bswap(edi);
        a.xor(eax, eax);
        a.mov(dx, 0x514);
        a.@out(dx, eax);
        a.mov(eax, DmaAccess);
        a.bswap(eax);
        a.mov(dx, 0x518);
        a.@out(dx, eax);
        a.mov(eax, __dword_ptr[DmaAccess]);
        a.bswap(eax);
        a.pop(edx);
        a.ret();

        // printFile: the directory entry at ESI after the prefix at EDX; remembers etc/e820's selector and size.
        var notE820 = a.CreateLabel();
        a.Label(ref printFile);
        a.push(esi);
        a.push(esi);
        a.mov(esi, edx);
        a.call(puts);
        a.pop(esi);
        a.push(esi);
        a.add(esi, 8);
        a.call(puts);
        a.pop(esi);
        a.push(esi);
        a.mov(esi, Str(" size="));
        a.call(puts);
        a.pop(esi);
        a.mov(eax, __dword_ptr[esi]);
        a.bswap(eax);
        a.call(hex32);
        a.push(esi);
        a.mov(esi, Str(" select="));
        a.call(puts);
        a.pop(esi);
        a.movzx(eax, __word_ptr[esi + 4]);
        a.xchg(al, ah);
        a.call(hex32);
        a.call(newline);
        a.lea(esi, __dword_ptr[esi + 8]);
        a.mov(edi, Str("etc/e820"));
        a.mov(ecx, 9);
        a.repe.cmpsb();
        a.jne(notE820);
        a.pop(esi);
        a.push(esi);
        a.mov(eax, __dword_ptr[esi]);
        a.bswap(eax);
        a.mov(__dword_ptr[E820Size], eax);
        a.movzx(eax, __word_ptr[esi + 4]);
        a.xchg(al, ah);
        a.mov(__dword_ptr[E820Select], eax);
        a.Label(ref notE820);
        a.pop(esi);
        a.ret();

        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), LoadAddress);
        if (stream.Length > StringsAddress - LoadAddress) throw new InvalidOperationException("The guest's code runs into its strings.");
        var payload = new byte[StringsAddress - LoadAddress + strings.Length];
        stream.ToArray().CopyTo(payload, 0);
        strings.ToArray().CopyTo(payload, (int)(StringsAddress - LoadAddress));
        return payload;
    }
}
