using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// Random sequences of x87 instructions (all but the transcendentals, which are not bit-exact on any two processors)
/// over random operands and control words with every exception masked, run on the host's x87 and on the simulator.
/// </summary>
[TestClass]
public sealed class X87RandomSequenceTests
{
    private const int Sequences = 500;
    private const int Length = 60;
    private const int R = X87Sequence.ResultOffset;

    private static readonly AssemblerRegisterST[] Stack = [st0, st1, st2, st3, st4, st5, st6, st7];

    private static readonly Action<Assembler, Random>[] Instructions =
    [
        (a, r) => a.fld(__dword_ptr[rdi + 8 * r.Next(16)]),
        (a, r) => a.fld(__qword_ptr[rdi + 8 * r.Next(16)]),
        (a, r) => a.fld(__tword_ptr[rdi + 8 * r.Next(15)]),
        (a, r) => a.fild(__word_ptr[rdi + 2 * r.Next(64)]),
        (a, r) => a.fild(__dword_ptr[rdi + 4 * r.Next(32)]),
        (a, r) => a.fild(__qword_ptr[rdi + 8 * r.Next(16)]),
        (a, r) => a.fld(Stack[r.Next(8)]),
        (a, r) => a.fst(__dword_ptr[rdi + R + 4 * r.Next(32)]),
        (a, r) => a.fstp(__qword_ptr[rdi + R + 8 * r.Next(16)]),
        (a, r) => a.fstp(__tword_ptr[rdi + R + 8 * r.Next(15)]),
        (a, r) => a.fist(__word_ptr[rdi + R + 2 * r.Next(64)]),
        (a, r) => a.fistp(__dword_ptr[rdi + R + 4 * r.Next(32)]),
        (a, r) => a.fistp(__qword_ptr[rdi + R + 8 * r.Next(16)]),
        (a, r) => a.fbstp(__tword_ptr[rdi + R + 8 * r.Next(15)]),
        (a, r) => a.fst(Stack[r.Next(8)]),
        (a, r) => a.fstp(Stack[r.Next(8)]),
        (a, r) => a.fxch(st0, Stack[r.Next(8)]),
        (a, r) => a.fld1(),
        (a, r) => a.fldz(),
        (a, r) => a.fldpi(),
        (a, r) => a.fldl2e(),
        (a, r) => a.fadd(st0, Stack[r.Next(8)]),
        (a, r) => a.fsub(Stack[r.Next(8)], st0),
        (a, r) => a.fsubrp(Stack[1 + r.Next(7)], st0),
        (a, r) => a.fmul(st0, Stack[r.Next(8)]),
        (a, r) => a.fdiv(st0, Stack[r.Next(8)]),
        (a, r) => a.fdivrp(Stack[1 + r.Next(7)], st0),
        (a, r) => a.fadd(__qword_ptr[rdi + 8 * r.Next(16)]),
        (a, r) => a.fmul(__dword_ptr[rdi + 4 * r.Next(32)]),
        (a, r) => a.fisub(__word_ptr[rdi + 2 * r.Next(64)]),
        (a, r) => a.fidivr(__dword_ptr[rdi + 4 * r.Next(32)]),
        (a, r) => a.fsqrt(),
        (a, r) => a.fabs(),
        (a, r) => a.fchs(),
        (a, r) => a.frndint(),
        (a, r) => a.fscale(),
        (a, r) => a.fprem(),
        (a, r) => a.fprem1(),
        (a, r) => a.fxtract(),
        (a, r) => a.fcom(st0, Stack[r.Next(8)]),
        (a, r) => a.fucomp(st0, Stack[r.Next(8)]),
        (a, r) => a.fcompp(),
        (a, r) => a.ficom(__word_ptr[rdi + 2 * r.Next(64)]),
        (a, r) => a.fcom(__qword_ptr[rdi + 8 * r.Next(16)]),
        (a, r) => a.fcomi(st0, Stack[r.Next(8)]),
        (a, r) => a.fucomip(st0, Stack[r.Next(8)]),
        (a, r) => a.fcmovbe(st0, Stack[r.Next(8)]),
        (a, r) => a.fcmovnu(st0, Stack[r.Next(8)]),
        (a, r) => a.ftst(),
        (a, r) => a.fxam(),
        (a, r) => a.fnstsw(__word_ptr[rdi + R + 2 * r.Next(64)]),
        (a, r) => a.fincstp(),
        (a, r) => a.fdecstp(),
        (a, r) => a.ffree(Stack[r.Next(8)]),
        (a, r) => a.fldcw(__word_ptr[rdi + 0xF0 + 2 * r.Next(8)]),
    ];

    /// <summary>Operands of every class: normals near and far, denormals, zeros, infinities, NaNs, unsupported encodings, integers.</summary>
    private static byte[] Operands(Random r, bool unmasked)
    {
        var d = new byte[0x100];
        r.NextBytes(d);
        for (var i = 0; i < 0xF0; i += 8)
        {
            switch (r.Next(6))
            {
                case 0:
                    BitConverter.GetBytes(Math.Round((r.NextDouble() - 0.5) * 1000)).CopyTo(d, i);
                    break;
                case 1:
                    BitConverter.GetBytes((r.NextDouble() - 0.5) * Math.Pow(2, r.Next(-60, 60))).CopyTo(d, i);
                    break;
                case 2:
                    BitConverter.GetBytes((long)r.Next(-100000, 100000)).CopyTo(d, i);
                    break;
                case 3:
                    // Special exponents in every format: all ones or all zeros.
                    d[i + 7] |= 0x7F;
                    d[i + 6] |= 0xF0;
                    break;
            }
        }
        for (var i = 0; i < 8; i++)
        {
            // Control words: random RC and PC (bits 6 and 12 set or not), every exception masked or random masks.
            var masks = unmasked ? r.Next(64) : 0x3F;
            var cw = masks | (r.Next(16) << 8) | (r.Next(2) << 6) | (r.Next(2) << 12);
            BitConverter.GetBytes((ushort)cw).CopyTo(d, 0xF0 + 2 * i);
        }
        return d;
    }

    [TestMethod]
    public void RandomSequencesMatchHost() => RunRandom(387, unmasked: false);

    /// <summary>With unmasked exceptions: both must take #MF at the same waiting instruction with the same state.</summary>
    [TestMethod]
    public void RandomSequencesWithUnmaskedExceptionsMatchHost() => RunRandom(1987, unmasked: true);

    private static void RunRandom(int seed, bool unmasked)
    {
        var random = new Random(seed);
        var list = new List<X87Sequence>();
        var steps_ = new List<(Action<Assembler, Random>, int)[]>();
        for (var s = 0; s < Sequences; s++)
        {
            var operands = Operands(random, unmasked);
            var picks = Enumerable.Range(0, Length).Select(_ => (Instructions[random.Next(Instructions.Length)], random.Next())).ToArray();
            steps_.Add(picks);
            list.Add(new X87Sequence($"sequence {s}", a =>
            {
                foreach (var (emit, seed) in picks) emit(a, new Random(seed));
            }, operands, []));
        }
        var failures = X87Sequence.Differences(list);
        if (failures.Count == 0) return;
        // Find, for the first failing sequences, the first instruction after which the states part.
        var report = new List<string>();
        foreach (var failure in failures.Take(8))
        {
            var index = list.FindIndex(s => failure.StartsWith(s.Name + ":"));
            var steps = steps_[index];
            var prefixes = Enumerable.Range(1, steps.Length).Select(n => new X87Sequence($"{n}", a =>
            {
                foreach (var (emit, seed) in steps.Take(n)) emit(a, new Random(seed));
            }, list[index].Operands, [])).ToArray();
            var first = X87Sequence.Differences(prefixes).FirstOrDefault();
            var n = first == null ? 0 : int.Parse(first[..first.IndexOf(':')]);
            report.Add($"{list[index].Name}, after {Describe(steps[..n])}: {first}; operands {Convert.ToHexString(list[index].Operands, 0, 0x80)}");
        }
        Assert.Fail($"{failures.Count} sequences differ; {string.Join("\n", report)}");
    }

    private static string Describe((Action<Assembler, Random> Emit, int Seed)[] steps)
    {
        var code = GuestRunner.Assemble(64, 0, a =>
        {
            foreach (var (emit, seed) in steps) emit(a, new Random(seed));
        });
        var decoder = Iced.Intel.Decoder.Create(64, code);
        var formatter = new IntelFormatter();
        var output = new StringOutput();
        var text = new List<string>();
        while (decoder.IP < (ulong)code.Length)
        {
            decoder.Decode(out var instruction);
            formatter.Format(instruction, output);
            text.Add(output.ToStringAndReset());
        }
        return string.Join("; ", text.TakeLast(8));
    }
}
