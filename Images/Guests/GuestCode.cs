using System.Text;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

/// <summary>
/// An Iced assembler for 32- or 64-bit guest code with the small runtime all built-in guests
/// share: console output to COM1 and port 0xE9, hex and decimal printing, and the exit sequence.
/// Arithmetic uses 32-bit registers in both modes; addresses and the stack use the mode's width.
/// </summary>
internal sealed class GuestCode
{
    public const ushort Com1 = 0x3F8;
    public const ushort DebugConsolePort = 0xE9;
    public const ushort DebugExitPort = 0xF4;
    public const ushort BochsShutdownPort = 0x8900;

    // Line status register bit 5: the transmit holding register is empty.
    private const byte LsrThre = 0x20;

    // Bounds the wait for a UART that never becomes ready, so a missing COM1 cannot hang the guest.
    private const int UartPollLimit = 0x100000;

    private Label putChar;
    private Label putString;
    private Label printHex;
    private Label printDecimal;
    private Label printHexCompact;
    private bool usesHexCompact;

    public GuestCode(int bitness)
    {
        Bitness = bitness;
        Asm = new Assembler(bitness);
        putChar = Asm.CreateLabel("putc");
        putString = Asm.CreateLabel("puts");
        printHex = Asm.CreateLabel("print_hex");
        printDecimal = Asm.CreateLabel("print_decimal");
        printHexCompact = Asm.CreateLabel("print_hex_compact");
    }

    public Assembler Asm { get; }

    private readonly List<(Label Label, byte[] Bytes)> blobs = [];

    public int Bitness { get; }

    /// <summary>Assembles the code for the address <paramref name="origin"/>.</summary>
    public static byte[] Assemble(Assembler assembler, ulong origin)
    {
        var stream = new MemoryStream();
        assembler.Assemble(new StreamCodeWriter(stream), origin);
        return stream.ToArray();
    }

    public byte[] Assemble(ulong origin) => Assemble(Asm, origin);

    /// <summary>Zeroes <paramref name="pages"/> 4-KiB pages at <paramref name="address"/> (64-bit code): memory is not assumed clear after a BIOS.</summary>
    public void ZeroPages(ulong address, int pages)
    {
        RequireLongMode();
        Asm.mov(rdi, address);
        Asm.mov(ecx, pages * 4096 / 8);
        Asm.xor(eax, eax);
        Asm.rep.stosq();
    }

    /// <summary>Copies <paramref name="bytes"/>, which <see cref="EmitBlobs"/> places in the payload, to <paramref name="destination"/> (64-bit code).</summary>
    public void CopyBlob(byte[] bytes, ulong destination)
    {
        RequireLongMode();
        var label = Asm.CreateLabel();
        blobs.Add((label, bytes));
        Asm.lea(rsi, __[label]);
        Asm.mov(rdi, destination);
        Asm.mov(ecx, bytes.Length);
        Asm.rep.movsb();
    }

    /// <summary>Emits the bytes that <see cref="CopyBlob"/> copies from.</summary>
    public void EmitBlobs()
    {
        foreach (var (label, bytes) in blobs)
        {
            var l = label;
            Asm.Label(ref l);
            Asm.db(bytes);
        }
    }

    private void RequireLongMode()
    {
        if (Bitness != 64) throw new InvalidOperationException("this routine is written for 64-bit guest code");
    }

    /// <summary>A byte at [base + index], with both registers widened to 64 bits in long mode.</summary>
    public AssemblerMemoryOperand Byte(AssemblerRegister32 baseRegister, AssemblerRegister32 index) =>
        Bitness == 64 ? __byte_ptr[Wide(baseRegister) + Wide(index)] : __byte_ptr[baseRegister + index];

    public AssemblerMemoryOperand Byte(AssemblerRegister32 baseRegister) =>
        Bitness == 64 ? __byte_ptr[Wide(baseRegister)] : __byte_ptr[baseRegister];

    public void Push(AssemblerRegister32 register)
    {
        if (Bitness == 64)
        {
            Asm.push(Wide(register));
        }
        else
        {
            Asm.push(register);
        }
    }

    public void Pop(AssemblerRegister32 register)
    {
        if (Bitness == 64)
        {
            Asm.pop(Wide(register));
        }
        else
        {
            Asm.pop(register);
        }
    }

    public void Increment(AssemblerRegister32 pointer)
    {
        if (Bitness == 64)
        {
            Asm.inc(Wide(pointer));
        }
        else
        {
            Asm.inc(pointer);
        }
    }

    /// <summary>Points ESI/RSI at a zero-terminated copy of <paramref name="text"/> placed inline in the code.</summary>
    public void LoadString(string text)
    {
        // CALL pushes the address of the bytes that follow it; no absolute label address is needed.
        var after = Asm.CreateLabel();
        Asm.call(after);
        Asm.db(Encoding.ASCII.GetBytes(text + "\0"));
        Asm.Label(ref after);
        Pop(esi);
    }

    /// <summary>Prints <paramref name="text"/> (ASCII); preserves all registers.</summary>
    public void Print(string text)
    {
        Push(esi);
        LoadString(text);
        Asm.call(putString);
        Pop(esi);
    }

    /// <summary>Prints the zero-terminated string at ESI/RSI; preserves all registers.</summary>
    public void PrintStringAtEsi() => Asm.call(putString);

    /// <summary>Prints AL; preserves all registers.</summary>
    public void PrintChar() => Asm.call(putChar);

    /// <summary>Prints EAX as eight upper-case hex digits; preserves all registers.</summary>
    public void PrintHex() => Asm.call(printHex);

    /// <summary>Prints EAX as an unsigned decimal number; preserves all registers.</summary>
    public void PrintDecimal() => Asm.call(printDecimal);

    /// <summary>Prints RAX as lower-case hex without leading zeros (64-bit code only); preserves all registers.</summary>
    public void PrintHexCompact()
    {
        if (Bitness != 64)
        {
            throw new InvalidOperationException("PrintHexCompact prints RAX: 64-bit code only");
        }

        usesHexCompact = true;
        Asm.call(printHexCompact);
    }

    /// <summary>Masks every IRQ at both 8259 PICs, so that no timer interrupt the firmware left running reaches a guest that sets IF.</summary>
    public void MaskPic()
    {
        Asm.mov(al, 0xFF);
        Asm.@out(0x21, al);
        Asm.@out(0xA1, al);
    }

    /// <summary>Programs COM1 for 115200 baud, 8N1, FIFOs on, interrupts off.</summary>
    public void InitSerial()
    {
        (ushort Port, byte Value)[] writes =
        [
            (Com1 + 1, 0x00), // IER: no interrupts
            (Com1 + 3, 0x80), // LCR: DLAB to reach the divisor latch
            (Com1 + 0, 0x01), // DLL: divisor 1 = 115200 baud
            (Com1 + 1, 0x00), // DLM
            (Com1 + 3, 0x03), // LCR: 8 data bits, no parity, 1 stop bit
            (Com1 + 2, 0x07), // FCR: enable and clear FIFOs
            (Com1 + 4, 0x03), // MCR: DTR, RTS
        ];
        foreach (var (port, value) in writes)
        {
            Asm.mov(dx, port);
            Asm.mov(al, value);
            Asm.@out(dx, al);
        }
    }

    /// <summary>
    /// Ends the run: "Shutdown" to Bochs' port 0x8900 (sim and Bochs stop there, sim with exit
    /// status 0), then 0 to QEMU's isa-debug-exit (exit status 1), then halts with interrupts off
    /// for any other machine.
    /// </summary>
    public void Exit()
    {
        Asm.mov(dx, BochsShutdownPort);
        foreach (var c in "Shutdown")
        {
            Asm.mov(al, (byte)c);
            Asm.@out(dx, al);
        }
        Asm.mov(al, 0);
        Asm.@out((byte)DebugExitPort, al);

        var halt = Asm.CreateLabel();
        Asm.Label(ref halt);
        Asm.cli();
        Asm.hlt();
        Asm.jmp(halt);
    }

    /// <summary>
    /// Ends the run with a failure: <paramref name="value"/> (nonzero) to QEMU's isa-debug-exit, which
    /// stops sim and QEMU with exit status (value &lt;&lt; 1) | 1; then "Shutdown" to port 0x8900 for Bochs,
    /// which ignores port 0xF4; then halts with interrupts off.
    /// </summary>
    public void Fail(byte value)
    {
        Asm.mov(al, value);
        Asm.@out((byte)DebugExitPort, al);
        Asm.mov(dx, BochsShutdownPort);
        foreach (var c in "Shutdown")
        {
            Asm.mov(al, (byte)c);
            Asm.@out(dx, al);
        }

        var halt = Asm.CreateLabel();
        Asm.Label(ref halt);
        Asm.cli();
        Asm.hlt();
        Asm.jmp(halt);
    }

    /// <summary>Emits the bodies of the shared routines; call once, after the program.</summary>
    public void EmitRoutines()
    {
        EmitPutChar();
        EmitPutString();
        EmitPrintHex();
        EmitPrintDecimal();
        if (usesHexCompact)
        {
            EmitPrintHexCompact();
        }
    }

    private static AssemblerRegister64 Wide(AssemblerRegister32 register) =>
        new((Register)((int)register.Value - (int)Register.EAX + (int)Register.RAX));

    private void EmitPutChar()
    {
        var wait = Asm.CreateLabel();
        var ready = Asm.CreateLabel();
        Asm.Label(ref putChar);
        Push(edx);
        Push(ecx);
        Push(eax);
        Asm.mov(ecx, UartPollLimit);
        Asm.mov(dx, (ushort)(Com1 + 5));
        Asm.Label(ref wait);
        Asm.@in(al, dx);
        Asm.test(al, LsrThre);
        Asm.jnz(ready);
        Asm.dec(ecx);
        Asm.jnz(wait);
        Asm.Label(ref ready);
        Pop(eax);
        Push(eax);
        Asm.mov(dx, Com1);
        Asm.@out(dx, al);
        Asm.@out((byte)DebugConsolePort, al);
        Pop(eax);
        Pop(ecx);
        Pop(edx);
        Asm.ret();
    }

    private void EmitPutString()
    {
        var next = Asm.CreateLabel();
        var done = Asm.CreateLabel();
        Asm.Label(ref putString);
        Push(eax);
        Push(esi);
        Asm.Label(ref next);
        Asm.mov(al, Byte(esi));
        Asm.test(al, al);
        Asm.jz(done);
        Asm.call(putChar);
        Increment(esi);
        Asm.jmp(next);
        Asm.Label(ref done);
        Pop(esi);
        Pop(eax);
        Asm.ret();
    }

    private void EmitPrintHex()
    {
        var digit = Asm.CreateLabel();
        var decimalDigit = Asm.CreateLabel();
        Asm.Label(ref printHex);
        Push(eax);
        Push(ecx);
        Push(edx);
        Asm.mov(edx, eax);
        Asm.mov(ecx, 8);
        Asm.Label(ref digit);
        Asm.rol(edx, 4);
        Asm.mov(al, dl);
        Asm.and(al, 0x0F);
        Asm.add(al, (byte)'0');
        Asm.cmp(al, (byte)'9');
        Asm.jbe(decimalDigit);
        Asm.add(al, 'A' - '9' - 1);
        Asm.Label(ref decimalDigit);
        Asm.call(putChar);
        Asm.dec(ecx);
        Asm.jnz(digit);
        Pop(edx);
        Pop(ecx);
        Pop(eax);
        Asm.ret();
    }

    // Nibbles from bit 63 down; a zero nibble prints only once a nonzero one has, or as the last digit.
    private void EmitPrintHexCompact()
    {
        var nibble = Asm.CreateLabel();
        var emit = Asm.CreateLabel();
        var decimalDigit = Asm.CreateLabel();
        var next = Asm.CreateLabel();
        Asm.Label(ref printHexCompact);
        Asm.push(rax);
        Asm.push(rcx);
        Asm.push(rdx);
        Asm.push(rbx);
        Asm.mov(rdx, rax);
        Asm.mov(ecx, 60);
        Asm.xor(ebx, ebx);
        Asm.Label(ref nibble);
        Asm.mov(rax, rdx);
        Asm.shr(rax, cl);
        Asm.and(eax, 0xF);
        Asm.or(ebx, eax);
        Asm.jnz(emit);
        Asm.test(ecx, ecx);
        Asm.jnz(next);
        Asm.Label(ref emit);
        Asm.add(al, (byte)'0');
        Asm.cmp(al, (byte)'9');
        Asm.jbe(decimalDigit);
        Asm.add(al, 'a' - '9' - 1);
        Asm.Label(ref decimalDigit);
        Asm.call(putChar);
        Asm.Label(ref next);
        Asm.sub(ecx, 4);
        Asm.jns(nibble);
        Asm.pop(rbx);
        Asm.pop(rdx);
        Asm.pop(rcx);
        Asm.pop(rax);
        Asm.ret();
    }

    private void EmitPrintDecimal()
    {
        var divide = Asm.CreateLabel();
        var output = Asm.CreateLabel();
        Asm.Label(ref printDecimal);
        Push(eax);
        Push(ebx);
        Push(ecx);
        Push(edx);
        Asm.mov(ebx, 10);
        Asm.xor(ecx, ecx);
        Asm.Label(ref divide);
        Asm.xor(edx, edx);
        Asm.div(ebx);
        Push(edx);
        Asm.inc(ecx);
        Asm.test(eax, eax);
        Asm.jnz(divide);
        Asm.Label(ref output);
        Pop(eax);
        Asm.add(al, (byte)'0');
        Asm.call(putChar);
        Asm.dec(ecx);
        Asm.jnz(output);
        Pop(edx);
        Pop(ecx);
        Pop(ebx);
        Pop(eax);
        Asm.ret();
    }
}
