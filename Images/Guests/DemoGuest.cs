using System.Globalization;
using System.Text;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

/// <summary>
/// A friendly first guest in 32-bit protected mode: prints a banner, the first 20 primes (by trial
/// division) and the CRC-32 of a well-known sentence to COM1 and port 0xE9, then exits.
/// </summary>
public sealed class DemoGuest : BuiltInGuest
{
    public const int PrimeCount = 20;
    public const string CrcText = "The quick brown fox jumps over the lazy dog";

    private const uint Crc32Polynomial = 0xEDB88320;

    public static readonly string[] Banner =
    [
        "Hello from sim's built-in demo guest!",
        "Running in 32-bit protected mode, flat segments, paging off.",
        "This same code boots on sim, QEMU and Bochs.",
    ];

    public override string Name => "demo";

    public override GuestMode Mode => GuestMode.Protected32;

    /// <summary>The CRC-32 (IEEE 802.3, reflected, as in zlib) of <paramref name="data"/>.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Crc32Polynomial : crc >> 1;
            }
        }

        return ~crc;
    }

    public static IReadOnlyList<uint> FirstPrimes(int count)
    {
        var primes = new List<uint>();
        for (uint candidate = 2; primes.Count < count; candidate++)
        {
            var isPrime = true;
            for (uint divisor = 2; divisor * divisor <= candidate; divisor++)
            {
                if (candidate % divisor == 0)
                {
                    isPrime = false;
                    break;
                }
            }

            if (isPrime)
            {
                primes.Add(candidate);
            }
        }

        return primes;
    }

    public override string ExpectedOutput()
    {
        var text = new StringBuilder();
        foreach (var line in Banner)
        {
            text.Append(line).Append('\n');
        }

        text.Append(CultureInfo.InvariantCulture, $"First {PrimeCount} primes:");
        foreach (var prime in FirstPrimes(PrimeCount))
        {
            text.Append(CultureInfo.InvariantCulture, $" {prime}");
        }

        text.Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"CRC32(\"{CrcText}\") = {Crc32(Encoding.ASCII.GetBytes(CrcText)):X8}\n");
        text.Append("Goodbye.\n");
        return text.ToString();
    }

    private protected override void EmitProgram(GuestCode code)
    {
        code.InitSerial();
        foreach (var line in Banner)
        {
            code.Print(line + "\n");
        }

        code.Print($"First {PrimeCount} primes:");
        EmitPrimes(code);
        code.Print("\n");

        code.Print("CRC32(\"");
        code.LoadString(CrcText);
        code.PrintStringAtEsi();
        code.Print("\") = ");
        EmitCrc32(code);
        code.PrintHex();
        code.Print("\nGoodbye.\n");
        code.Exit();
    }

    // EBX = candidate, EDI = primes found, ECX = trial divisor.
    private static void EmitPrimes(GuestCode code)
    {
        var a = code.Asm;
        var nextCandidate = a.CreateLabel();
        var tryDivisor = a.CreateLabel();
        var isPrime = a.CreateLabel();
        var notPrime = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(ebx, 2);
        a.xor(edi, edi);
        a.Label(ref nextCandidate);
        a.mov(ecx, 2);
        a.Label(ref tryDivisor);
        a.mov(eax, ecx);
        a.imul(eax, ecx);
        a.cmp(eax, ebx);
        a.ja(isPrime);
        a.mov(eax, ebx);
        a.xor(edx, edx);
        a.div(ecx);
        a.test(edx, edx);
        a.jz(notPrime);
        a.inc(ecx);
        a.jmp(tryDivisor);
        a.Label(ref isPrime);
        a.mov(al, (byte)' ');
        code.PrintChar();
        a.mov(eax, ebx);
        code.PrintDecimal();
        a.inc(edi);
        a.cmp(edi, PrimeCount);
        a.je(done);
        a.Label(ref notPrime);
        a.inc(ebx);
        a.jmp(nextCandidate);
        a.Label(ref done);
    }

    // CRC-32 of the zero-terminated string at ESI into EAX, bit by bit.
    private static void EmitCrc32(GuestCode code)
    {
        var a = code.Asm;
        var nextByte = a.CreateLabel();
        var nextBit = a.CreateLabel();
        var noXor = a.CreateLabel();
        var end = a.CreateLabel();
        a.mov(edx, uint.MaxValue);
        a.Label(ref nextByte);
        a.movzx(eax, code.Byte(esi));
        a.test(eax, eax);
        a.jz(end);
        a.xor(edx, eax);
        a.mov(ecx, 8);
        a.Label(ref nextBit);
        a.shr(edx, 1);
        a.jnc(noXor);
        a.xor(edx, Crc32Polynomial);
        a.Label(ref noXor);
        a.dec(ecx);
        a.jnz(nextBit);
        code.Increment(esi);
        a.jmp(nextByte);
        a.Label(ref end);
        a.not(edx);
        a.mov(eax, edx);
    }
}
