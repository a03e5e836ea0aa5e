using System.Globalization;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Images.Guests;

/// <summary>
/// A CPU-bound integer workload: per iteration a sieve of Eratosthenes over about 1 MiB of bytes,
/// an FNV-1a hash over the sieve, a recursive Fibonacci and a chain of divisions, all folded into
/// one checksum that every iteration changes. The program prints the checksum in hex to COM1 and
/// port 0xE9 and exits; <see cref="ComputeChecksum"/> is the same algorithm in C#.
/// </summary>
public sealed class BenchmarkGuest : BuiltInGuest
{
    /// <summary>About 20 million instructions per iteration: a few seconds at 100 MIPS.</summary>
    public const uint DefaultIterations = 16;

    private const uint FnvOffsetBasis = 2166136261;
    private const uint FnvPrime = 16777619;
    private const uint GoldenRatio = 2654435761;
    private const uint SieveSize = 0x100000;
    private const uint FibonacciBase = 16;
    private const uint DivisionSteps = 256;

    private const uint HashVariable = GuestLayout.Variables;
    private const uint IterationVariable = GuestLayout.Variables + 4;
    private const uint CountVariable = GuestLayout.Variables + 8;
    private const uint FibonacciVariable = GuestLayout.Variables + 12;

    public BenchmarkGuest(GuestMode mode = GuestMode.Protected32, uint iterations = DefaultIterations)
    {
        Mode = mode;
        Iterations = iterations;
    }

    public override string Name => $"benchmark-{Mode.ToString().ToLowerInvariant()}-{Iterations}";

    public override GuestMode Mode { get; }

    public uint Iterations { get; }

    public static string ExpectedOutput(GuestMode mode, uint iterations) =>
        string.Create(CultureInfo.InvariantCulture,
            $"sim benchmark guest ({ModeName(mode)}), {iterations} iterations\nchecksum: {ComputeChecksum(iterations):X8}\n");

    public override string ExpectedOutput() => ExpectedOutput(Mode, Iterations);

    /// <summary>The checksum the guest prints, computed in C# with the guest's 32-bit wrapping arithmetic.</summary>
    public static uint ComputeChecksum(uint iterations)
    {
        var hash = FnvOffsetBasis;
        var sieve = new byte[SieveSize];
        for (uint iteration = 0; iteration < iterations; iteration++)
        {
            var n = SieveLength(iteration);
            Array.Fill(sieve, (byte)1, 0, (int)n);
            sieve[0] = 0;
            sieve[1] = 0;
            for (uint i = 2; i * i < n; i++)
            {
                if (sieve[i] != 0)
                {
                    for (var j = i * i; j < n; j += i)
                    {
                        sieve[j] = 0;
                    }
                }
            }

            uint count = 0;
            for (uint i = 0; i < n; i++)
            {
                count += sieve[i];
                hash = unchecked((hash ^ sieve[i]) * FnvPrime);
            }

            var fibonacci = Fibonacci(FibonacciBase + (iteration % 5));
            var x = hash | 1;
            for (uint k = 3; k < 3 + (2 * DivisionSteps); k += 2)
            {
                x = unchecked((x / k) + ((x % k) * GoldenRatio) + k);
            }

            hash = unchecked((hash ^ count) * FnvPrime);
            hash = unchecked((hash ^ fibonacci) * FnvPrime);
            hash = unchecked((hash ^ x) * FnvPrime);
        }

        return hash;
    }

    /// <summary>The sieve covers a different length in every iteration, so no iteration repeats another.</summary>
    public static uint SieveLength(uint iteration) => SieveSize - ((iteration * 7919) & 0xFFFF);

    public static uint Fibonacci(uint n) => n < 2 ? n : unchecked(Fibonacci(n - 1) + Fibonacci(n - 2));

    private static string ModeName(GuestMode mode) => mode == GuestMode.Protected32 ? "32-bit protected mode" : "64-bit long mode";

    private protected override void EmitProgram(GuestCode code)
    {
        var a = code.Asm;
        var fibonacci = a.CreateLabel("fibonacci");
        var outer = a.CreateLabel();
        var finish = a.CreateLabel();
        var fill = a.CreateLabel();
        var sieveOuter = a.CreateLabel();
        var sieveInner = a.CreateLabel();
        var sieveNext = a.CreateLabel();
        var sieveDone = a.CreateLabel();
        var hashLoop = a.CreateLabel();
        var divisionLoop = a.CreateLabel();

        code.InitSerial();
        code.Print($"sim benchmark guest ({ModeName(Mode)}), ");
        a.mov(eax, Iterations);
        code.PrintDecimal();
        code.Print(" iterations\n");

        a.mov(__dword_ptr[HashVariable], FnvOffsetBasis);
        a.mov(__dword_ptr[IterationVariable], 0);
        a.Label(ref outer);
        a.mov(eax, __dword_ptr[IterationVariable]);
        a.cmp(eax, Iterations);
        a.jae(finish);

        // EBP = sieve length, EDI = sieve base.
        a.imul(eax, eax, 7919);
        a.and(eax, 0xFFFF);
        a.mov(ebp, SieveSize);
        a.sub(ebp, eax);
        a.mov(edi, GuestLayout.WorkArea);
        a.xor(ecx, ecx);
        a.Label(ref fill);
        a.mov(code.Byte(edi, ecx), 1);
        a.inc(ecx);
        a.cmp(ecx, ebp);
        a.jb(fill);
        a.mov(code.Byte(edi), 0);
        a.inc(edi);
        a.mov(code.Byte(edi), 0);
        a.mov(edi, GuestLayout.WorkArea);

        // EBX = i, EAX = j.
        a.mov(ebx, 2);
        a.Label(ref sieveOuter);
        a.mov(eax, ebx);
        a.imul(eax, ebx);
        a.cmp(eax, ebp);
        a.jae(sieveDone);
        a.cmp(code.Byte(edi, ebx), 0);
        a.je(sieveNext);
        a.Label(ref sieveInner);
        a.mov(code.Byte(edi, eax), 0);
        a.add(eax, ebx);
        a.cmp(eax, ebp);
        a.jb(sieveInner);
        a.Label(ref sieveNext);
        a.inc(ebx);
        a.jmp(sieveOuter);
        a.Label(ref sieveDone);

        // EDX = hash, ESI = count of primes.
        a.mov(edx, __dword_ptr[HashVariable]);
        a.xor(esi, esi);
        a.xor(ecx, ecx);
        a.Label(ref hashLoop);
        a.movzx(eax, code.Byte(edi, ecx));
        a.add(esi, eax);
        a.xor(edx, eax);
        a.imul(edx, edx, unchecked((int)FnvPrime));
        a.inc(ecx);
        a.cmp(ecx, ebp);
        a.jb(hashLoop);
        a.mov(__dword_ptr[HashVariable], edx);
        a.mov(__dword_ptr[CountVariable], esi);

        a.mov(eax, __dword_ptr[IterationVariable]);
        a.xor(edx, edx);
        a.mov(ecx, 5);
        a.div(ecx);
        a.mov(ecx, edx);
        a.add(ecx, FibonacciBase);
        a.call(fibonacci);
        a.mov(__dword_ptr[FibonacciVariable], eax);

        // EBX = x, ECX = k.
        a.mov(ebx, __dword_ptr[HashVariable]);
        a.or(ebx, 1);
        a.mov(ecx, 3);
        a.Label(ref divisionLoop);
        a.mov(eax, ebx);
        a.xor(edx, edx);
        a.div(ecx);
        a.imul(edx, edx, unchecked((int)GoldenRatio));
        a.add(eax, edx);
        a.add(eax, ecx);
        a.mov(ebx, eax);
        a.add(ecx, 2);
        a.cmp(ecx, 3 + (2 * DivisionSteps));
        a.jb(divisionLoop);

        a.mov(eax, __dword_ptr[HashVariable]);
        a.xor(eax, __dword_ptr[CountVariable]);
        a.imul(eax, eax, unchecked((int)FnvPrime));
        a.xor(eax, __dword_ptr[FibonacciVariable]);
        a.imul(eax, eax, unchecked((int)FnvPrime));
        a.xor(eax, ebx);
        a.imul(eax, eax, unchecked((int)FnvPrime));
        a.mov(__dword_ptr[HashVariable], eax);
        a.inc(__dword_ptr[IterationVariable]);
        a.jmp(outer);

        a.Label(ref finish);
        code.Print("checksum: ");
        a.mov(eax, __dword_ptr[HashVariable]);
        code.PrintHex();
        code.Print("\n");
        code.Exit();

        EmitFibonacci(code, ref fibonacci);
    }

    // EAX = fib(ECX); preserves ECX and EBX, so the recursion keeps n and the first result in registers.
    private static void EmitFibonacci(GuestCode code, ref Iced.Intel.Label fibonacci)
    {
        var a = code.Asm;
        var small = a.CreateLabel();
        a.Label(ref fibonacci);
        a.cmp(ecx, 2);
        a.jb(small);
        code.Push(ecx);
        code.Push(ebx);
        a.dec(ecx);
        a.call(fibonacci);
        a.mov(ebx, eax);
        a.dec(ecx);
        a.call(fibonacci);
        a.add(eax, ebx);
        code.Pop(ebx);
        code.Pop(ecx);
        a.ret();
        a.Label(ref small);
        a.mov(eax, ecx);
        a.ret();
    }
}
