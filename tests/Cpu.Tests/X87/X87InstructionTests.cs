using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// The x87 instructions in the processor against the host's x87: each group's instructions run as sequences on both,
/// and the FSAVE images (register stack, FCW, FSW, tags, FOP, FIP, FDP), the stored results and EFLAGS must agree.
/// </summary>
[TestClass]
public sealed class X87InstructionTests
{
    private const int R = X87Sequence.ResultOffset;

    /// <summary>Operands at fixed offsets: 0 real32 1.5, 8 real64 π, 16 real80 −(2^-16382 denormal-ish), 32 int16 −7, 40 int32 100000, 48 int64, 64 BCD, 80 real32 −0.1, 88 real64 1e300, 96 real64 denormal, 104 real32 SNaN, 112 real64 3.0, 120 int16 3, 128 control words.</summary>
    private static byte[] Operands()
    {
        var d = new byte[0x100];
        BitConverter.GetBytes(1.5f).CopyTo(d, 0);
        BitConverter.GetBytes(Math.PI).CopyTo(d, 8);
        BitConverter.GetBytes(0x0000_C000_0000_0000_1UL).CopyTo(d, 16);
        BitConverter.GetBytes((ushort)0x8000).CopyTo(d, 24);
        BitConverter.GetBytes((short)-7).CopyTo(d, 32);
        BitConverter.GetBytes(100000).CopyTo(d, 40);
        BitConverter.GetBytes(-1234567890123456789L).CopyTo(d, 48);
        BitConverter.GetBytes(0x0000_0012_3456_7890UL).CopyTo(d, 64);
        BitConverter.GetBytes((ushort)0x8000).CopyTo(d, 72);
        BitConverter.GetBytes(-0.1f).CopyTo(d, 80);
        BitConverter.GetBytes(1e300).CopyTo(d, 88);
        BitConverter.GetBytes(4.9e-324).CopyTo(d, 96);
        BitConverter.GetBytes(0x7F800001u).CopyTo(d, 104);
        BitConverter.GetBytes(3.0).CopyTo(d, 112);
        BitConverter.GetBytes((short)3).CopyTo(d, 120);
        for (var i = 0; i < 16; i++)
        {
            // 128 + 2i: the control word with RC = i & 3, PC = (i >> 2) & 3 and every exception masked.
            var cw = 0x3F | ((i & 3) << 10) | (((i >> 2) & 3) << 8);
            BitConverter.GetBytes((ushort)cw).CopyTo(d, 128 + 2 * i);
        }
        // 160: every exception unmasked; 162: only PE masked.
        BitConverter.GetBytes((ushort)0x0340).CopyTo(d, 160);
        BitConverter.GetBytes((ushort)0x0360).CopyTo(d, 162);
        return d;
    }

    private static X87Sequence S(string name, Action<Assembler> body, params int[] environments) => new(name, body, Operands(), environments);

    private static AssemblerMemoryOperand M(int offset) => __[rdi + offset];

    private static void LoadAll(Assembler a)
    {
        a.fld(__dword_ptr[rdi + 0]);
        a.fld(__qword_ptr[rdi + 8]);
        a.fld(__tword_ptr[rdi + 16]);
        a.fild(__word_ptr[rdi + 32]);
        a.fild(__dword_ptr[rdi + 40]);
        a.fild(__qword_ptr[rdi + 48]);
        a.fbld(__tword_ptr[rdi + 64]);
        a.fld(__dword_ptr[rdi + 80]);
    }

    [TestMethod]
    public void DataTransferMatchesHost()
    {
        var list = new List<X87Sequence>
        {
            S("loads", LoadAll),
            S("stores", a =>
            {
                LoadAll(a);
                a.fst(__dword_ptr[rdi + R]);
                a.fstp(__qword_ptr[rdi + R + 8]);
                a.fstp(__tword_ptr[rdi + R + 16]);
                a.fist(__word_ptr[rdi + R + 32]);
                a.fistp(__dword_ptr[rdi + R + 36]);
                a.fistp(__qword_ptr[rdi + R + 40]);
                a.fbstp(__tword_ptr[rdi + R + 48]);
                a.fstp(__dword_ptr[rdi + R + 64]);
                a.fist(__dword_ptr[rdi + R + 68]);
            }),
            S("overflow", a =>
            {
                for (var i = 0; i < 10; i++) a.fld1();
                a.fstp(__qword_ptr[rdi + R]);
            }),
            S("underflow", a =>
            {
                a.fstp(__qword_ptr[rdi + R]);
                a.fistp(__word_ptr[rdi + R + 8]);
                a.fbstp(__tword_ptr[rdi + R + 16]);
                a.fadd(st0, st1);
                a.fxch(st0, st3);
            }),
            S("denormal and SNaN loads", a =>
            {
                a.fld(__qword_ptr[rdi + 96]);
                a.fld(__dword_ptr[rdi + 104]);
                a.fst(__dword_ptr[rdi + R]);
            }),
            S("register moves", a =>
            {
                LoadAll(a);
                a.fxch(st0, st5);
                a.fld(st3);
                a.fst(st6);
                a.fstp(st2);
                a.ffree(st4);
                a.fincstp();
                a.fdecstp();
                a.fdecstp();
            }),
            S("fcmov", a =>
            {
                a.fld1();
                a.fldpi();
                a.fldz();
                a.xor(eax, eax);
                a.fcmove(st0, st1);
                a.fcmovb(st0, st2);
                a.stc();
                a.fcmovb(st0, st2);
                a.fcmovnbe(st0, st1);
                a.fcmovu(st0, st1);
                a.fcmovnu(st0, st1);
            }),
            S("overflowing stores", a =>
            {
                a.fld(__qword_ptr[rdi + 88]);
                a.fst(__dword_ptr[rdi + R]);
                a.fist(__dword_ptr[rdi + R + 4]);
                a.fld(__qword_ptr[rdi + 96]);
                a.fst(__dword_ptr[rdi + R + 8]);
                a.fnclex();
                a.fldcw(__word_ptr[rdi + 160]);
                a.fst(__dword_ptr[rdi + R + 12]);
            }),
        };
        for (var rc = 0; rc < 4; rc++)
        {
            var cw = 128 + 2 * rc;
            list.Add(S($"integer and BCD stores, RC {rc}", a =>
            {
                a.fldcw(__word_ptr[rdi + cw]);
                a.fld(__dword_ptr[rdi + 80]);
                a.fld(__qword_ptr[rdi + 8]);
                a.fist(__word_ptr[rdi + R]);
                a.fist(__dword_ptr[rdi + R + 4]);
                a.fbstp(__tword_ptr[rdi + R + 8]);
                a.fist(__word_ptr[rdi + R + 20]);
                a.fst(__dword_ptr[rdi + R + 24]);
                a.fchs();
                a.fistp(__qword_ptr[rdi + R + 32]);
            }));
        }
        X87Sequence.AssertAllMatchHost(list);
    }

    /// <summary>
    /// A zero divisor's #Z outranks the dividend's #D (SDM vol. 1, 4.9.2: divide-by-zero before denormal operand), also for
    /// a denormal memory dividend, whose #D the load would report; a zero dividend over a denormal divisor gives #D alone.
    /// </summary>
    [TestMethod]
    public void DenormalMemoryDividendOverZeroMatchesHost()
    {
        X87Sequence.AssertAllMatchHost(
        [
            S("denormal m64 / 0", a => { a.fldz(); a.fdivr(__qword_ptr[rdi + 96]); }),
            S("0 / denormal m64", a => { a.fldz(); a.fdiv(__qword_ptr[rdi + 96]); }),
            S("denormal m64 / 0, all unmasked", a =>
            {
                a.fldz();
                a.fldcw(__word_ptr[rdi + 160]);
                a.fdivr(__qword_ptr[rdi + 96]);
            }),
        ]);
    }

    [TestMethod]
    public void BasicArithmeticMatchesHost()
    {
        var list = new List<X87Sequence>();
        var operations = new (string Name, Action<Assembler, AssemblerRegisterST, AssemblerRegisterST> Register, Action<Assembler, AssemblerRegisterST> Pop,
            Action<Assembler, AssemblerMemoryOperand> Memory, Action<Assembler, AssemblerMemoryOperand> Integer)[]
        {
            ("add", (a, x, y) => a.fadd(x, y), (a, x) => a.faddp(x, st0), (a, m) => a.fadd(m), (a, m) => a.fiadd(m)),
            ("sub", (a, x, y) => a.fsub(x, y), (a, x) => a.fsubp(x, st0), (a, m) => a.fsub(m), (a, m) => a.fisub(m)),
            ("subr", (a, x, y) => a.fsubr(x, y), (a, x) => a.fsubrp(x, st0), (a, m) => a.fsubr(m), (a, m) => a.fisubr(m)),
            ("mul", (a, x, y) => a.fmul(x, y), (a, x) => a.fmulp(x, st0), (a, m) => a.fmul(m), (a, m) => a.fimul(m)),
            ("div", (a, x, y) => a.fdiv(x, y), (a, x) => a.fdivp(x, st0), (a, m) => a.fdiv(m), (a, m) => a.fidiv(m)),
            ("divr", (a, x, y) => a.fdivr(x, y), (a, x) => a.fdivrp(x, st0), (a, m) => a.fdivr(m), (a, m) => a.fidivr(m)),
        };
        foreach (var (name, register, pop, memory, integer) in operations)
        {
            for (var c = 0; c < 16; c += 3)
            {
                var cw = 128 + 2 * c;
                list.Add(S($"{name}, control word {c}", a =>
                {
                    a.fldcw(__word_ptr[rdi + cw]);
                    LoadAll(a);
                    register(a, st0, st3);
                    register(a, st2, st0);
                    pop(a, st1);
                    memory(a, __dword_ptr[rdi + 80]);
                    memory(a, __qword_ptr[rdi + 112]);
                    memory(a, __qword_ptr[rdi + 96]);
                    integer(a, __word_ptr[rdi + 120]);
                    integer(a, __dword_ptr[rdi + 40]);
                    register(a, st0, st4);
                    pop(a, st5);
                }));
            }
            list.Add(S($"{name} with specials", a =>
            {
                a.fldz();
                a.fldz();
                register(a, st0, st1);
                a.fld(__dword_ptr[rdi + 104]);
                a.fld1();
                register(a, st0, st1);
                a.fld(__qword_ptr[rdi + 88]);
                a.fld(st0);
                register(a, st0, st1);
                register(a, st0, st0);
            }));
            list.Add(S($"{name} unmasked", a =>
            {
                a.fldz();
                a.fld1();
                a.fldcw(__word_ptr[rdi + 160]);
                register(a, st0, st1);
                a.fnstsw(__word_ptr[rdi + R]);
            }));
        }
        list.Add(S("one-operand arithmetic", a =>
        {
            LoadAll(a);
            a.fsqrt();
            a.fchs();
            a.fxch(st0, st2);
            a.fabs();
            a.frndint();
            a.fxch(st0, st5);
            a.fsqrt();
            a.fscale();
            a.fxtract();
            a.fprem();
            a.fprem1();
        }));
        list.Add(S("fprem loop", a =>
        {
            a.fld(__qword_ptr[rdi + 8]);
            a.fld(__qword_ptr[rdi + 88]);
            for (var i = 0; i < 5; i++)
            {
                a.fprem();
                a.fnstsw(__word_ptr[rdi + R + 2 * i]);
            }
            a.fprem1();
        }));
        X87Sequence.AssertAllMatchHost(list);
    }

    [TestMethod]
    public void ComparisonMatchesHost()
    {
        var list = new List<X87Sequence>
        {
            S("fcom forms", a =>
            {
                LoadAll(a);
                a.fcom(st0, st1);
                a.fnstsw(__word_ptr[rdi + R]);
                a.fcom(__dword_ptr[rdi + 0]);
                a.fnstsw(__word_ptr[rdi + R + 2]);
                a.fcom(__qword_ptr[rdi + 8]);
                a.fnstsw(__word_ptr[rdi + R + 4]);
                a.ficom(__word_ptr[rdi + 32]);
                a.fnstsw(__word_ptr[rdi + R + 6]);
                a.ficomp(__dword_ptr[rdi + 40]);
                a.fnstsw(__word_ptr[rdi + R + 8]);
                a.fcomp(st0, st2);
                a.fcompp();
                a.fnstsw(__word_ptr[rdi + R + 10]);
                a.ftst();
                a.fnstsw(__word_ptr[rdi + R + 12]);
                a.fucom(st0, st1);
                a.fucomp(st0, st1);
                a.fucompp();
                a.fnstsw(ax);
                a.mov(__word_ptr[rdi + R + 14], ax);
            }),
            S("fcomi forms", a =>
            {
                a.fld1();
                a.fldpi();
                a.fcomi(st0, st1);
                a.pushfq();
                a.pop(rax);
                a.and(eax, 0x8D5);
                a.mov(__qword_ptr[rdi + R], rax);
                a.fucomi(st0, st1);
                a.pushfq();
                a.pop(rax);
                a.and(eax, 0x8D5);
                a.mov(__qword_ptr[rdi + R + 8], rax);
                a.fxch(st0, st1);
                a.fcomip(st0, st1);
                a.pushfq();
                a.pop(rax);
                a.and(eax, 0x8D5);
                a.mov(__qword_ptr[rdi + R + 16], rax);
                a.fld(st0);
                a.fucomip(st0, st1);
                a.pushfq();
                a.pop(rax);
                a.and(eax, 0x8D5);
                a.mov(__qword_ptr[rdi + R + 24], rax);
                a.fld(__dword_ptr[rdi + 104]);
                a.fucomi(st0, st1);
                a.pushfq();
                a.pop(rax);
                a.and(eax, 0x8D5);
                a.mov(__qword_ptr[rdi + R + 32], rax);
                a.fcomi(st0, st7);
            }),
            S("NaN comparisons", a =>
            {
                a.fld(__dword_ptr[rdi + 104]);
                a.fld1();
                a.fucom(st0, st1);
                a.fnstsw(__word_ptr[rdi + R]);
                a.fcom(st0, st1);
                a.fnstsw(__word_ptr[rdi + R + 2]);
                a.fcom(__dword_ptr[rdi + 104]);
                a.fnstsw(__word_ptr[rdi + R + 4]);
            }),
            S("fxam", a =>
            {
                a.fxam();
                a.fnstsw(__word_ptr[rdi + R]);
                LoadAll(a);
                for (var i = 0; i < 8; i++)
                {
                    a.fxam();
                    a.fnstsw(__word_ptr[rdi + R + 2 + 2 * i]);
                    a.fincstp();
                }
                a.fld(__qword_ptr[rdi + 96]);
                a.fxam();
                a.fnstsw(__word_ptr[rdi + R + 20]);
                a.fld(__dword_ptr[rdi + 104]);
                a.fxam();
                a.fnstsw(__word_ptr[rdi + R + 22]);
            }),
        };
        X87Sequence.AssertAllMatchHost(list);
    }

    [TestMethod]
    public void LoadConstantsMatchHost()
    {
        var list = new List<X87Sequence>();
        for (var rc = 0; rc < 4; rc++)
        {
            var cw = 128 + 2 * rc;
            list.Add(S($"constants, RC {rc}", a =>
            {
                a.fldcw(__word_ptr[rdi + cw]);
                a.fld1();
                a.fldl2t();
                a.fldl2e();
                a.fldpi();
                a.fldlg2();
                a.fldln2();
                a.fldz();
            }));
        }
        X87Sequence.AssertAllMatchHost(list);
    }

    [TestMethod]
    public void TranscendentalStackEffectsMatchHost()
    {
        // Operands whose results are exact or unambiguous, so that the values agree bit for bit as well.
        var list = new List<X87Sequence>
        {
            S("fsin, fcos, fptan, fsincos of 0", a =>
            {
                a.fldz();
                a.fsin();
                a.fcos();
                a.fnstsw(__word_ptr[rdi + R]);
                a.fldz();
                a.fptan();
                a.fldz();
                a.fsincos();
                a.fnstsw(__word_ptr[rdi + R + 2]);
            }),
            S("out of range", a =>
            {
                a.fld(__qword_ptr[rdi + 88]);
                a.fsin();
                a.fnstsw(__word_ptr[rdi + R]);
                a.fcos();
                a.fptan();
                a.fsincos();
                a.fnstsw(__word_ptr[rdi + R + 2]);
                a.fldz();
                a.fsin();
                a.fnstsw(__word_ptr[rdi + R + 4]);
            }),
            S("f2xm1 of 0, 1 and -1", a =>
            {
                a.fldz();
                a.f2xm1();
                a.fld1();
                a.f2xm1();
                a.fld1();
                a.fchs();
                a.f2xm1();
            }),
            S("fyl2x and fyl2xp1, exact", a =>
            {
                a.fild(__word_ptr[rdi + 120]);
                a.fld(__qword_ptr[rdi + 112]);
                a.fld(__qword_ptr[rdi + 112]);
                a.fmulp(st1, st0);
                a.fyl2x();
                a.fild(__word_ptr[rdi + 120]);
                a.fldz();
                a.fyl2xp1();
            }),
            S("fpatan of zeros and infinities", a =>
            {
                a.fldz();
                a.fld1();
                a.fpatan();
                a.fld1();
                a.fld1();
                a.fdiv(__qword_ptr[rdi + 96]);
                a.fpatan();
            }),
            S("specials", a =>
            {
                a.fld(__dword_ptr[rdi + 104]);
                a.fsin();
                a.fld1();
                a.fldz();
                a.fdivp(st1, st0);
                a.fcos();
                a.fldz();
                a.fld1();
                a.fchs();
                a.fyl2x();
                a.fld1();
                a.fldz();
                a.fyl2x();
            }),
            S("stack faults", a =>
            {
                a.fsin();
                a.fptan();
                a.fpatan();
                a.fyl2x();
                a.f2xm1();
                for (var i = 0; i < 8; i++) a.fldz();
                a.fsincos();
                a.fptan();
            }),
        };
        X87Sequence.AssertAllMatchHost(list);
    }

    [TestMethod]
    public void ControlMatchesHost()
    {
        var list = new List<X87Sequence>
        {
            S("control and status words", a =>
            {
                a.fldcw(__word_ptr[rdi + 130]);
                a.fnstcw(__word_ptr[rdi + R]);
                a.fld1();
                a.fldz();
                a.fdiv(st0, st1);
                a.fnstsw(__word_ptr[rdi + R + 2]);
                a.fnclex();
                a.fnstsw(ax);
                a.mov(__word_ptr[rdi + R + 4], ax);
                a.fnop();
            }),
            S("environment", a =>
            {
                LoadAll(a);
                a.fld(__qword_ptr[rdi + 96]);
                a.fnstenv(__[rdi + R]);
                a.fnstcw(__word_ptr[rdi + R + 32]);
                a.fldcw(__word_ptr[rdi + 128]);
                a.fldenv(__[rdi + R]);
                a.fnstcw(__word_ptr[rdi + R + 34]);
            }, R),
            S("save and restore", a =>
            {
                LoadAll(a);
                a.fnsave(__[rdi + R]);
                a.fld1();
                a.frstor(__[rdi + R]);
                a.fadd(st0, st1);
            }, R),
            S("unmasked exceptions pending", a =>
            {
                a.fldcw(__word_ptr[rdi + 160]);
                a.fld1();
                a.fldz();
                a.fdiv(st1, st0);
                a.fnstenv(__[rdi + R]);
            }, R),
            S("unmasking a pending flag", a =>
            {
                a.fld1();
                a.fldz();
                a.fdiv(st1, st0);
                a.fldcw(__word_ptr[rdi + 162]);
                a.fnstsw(__word_ptr[rdi + R]);
            }),
            S("waiting forms", a =>
            {
                a.finit();
                a.fldpi();
                a.fstcw(__word_ptr[rdi + R]);
                a.fstsw(__word_ptr[rdi + R + 2]);
                a.fstsw(ax);
                a.mov(__word_ptr[rdi + R + 4], ax);
                a.fstenv(__[rdi + R + 8]);
                a.fclex();
                a.fsave(__[rdi + R + 40]);
                a.wait();
            }, R + 8, R + 40),
            new("16-bit environment and state", a =>
            {
                LoadAll(a);
                // 66 D9 /6 and 66 DD /6: FNSTENV m14 and FNSAVE m94; 66 DD /4: FRSTOR m94.
                a.db(0x66, 0xD9, 0xB7);
                a.dd(R);
                a.db(0x66, 0xDD, 0xB7);
                a.dd(R + 16);
                a.fld1();
                a.db(0x66, 0xDD, 0xA7);
                a.dd(R + 16);
                a.db(0x66, 0xD9, 0xA7);
                a.dd(R);
                // The loaded 16-bit pointers cannot be compared with the host's; an instruction with a memory operand replaces them.
                a.fadd(__qword_ptr[rdi + 8]);
            }, Operands(), [], [R, R + 16]),
            S("REX.W environment and state", a =>
            {
                LoadAll(a);
                // 48 D9 /6, 48 DD /6, 48 DD /4, 48 D9 /4: REX.W FNSTENV, FNSAVE, FRSTOR, FLDENV.
                a.db(0x48, 0xD9, 0xB7);
                a.dd(R);
                a.db(0x48, 0xDD, 0xB7);
                a.dd(R + 32);
                a.fld1();
                a.db(0x48, 0xDD, 0xA7);
                a.dd(R + 32);
                a.db(0x48, 0xD9, 0xA7);
                a.dd(R);
            }, R, R + 32),
            S("undocumented aliases", a =>
            {
                LoadAll(a);
                // FSTP1, FXCH4, FXCH7, FCOM2, FCOMP3, FCOMP5, FSTP8, FSTP9 and FFREEP, each on ST(1).
                foreach (var (first, second) in new (byte, byte)[] { (0xD9, 0xD9), (0xDD, 0xC9), (0xDF, 0xC9), (0xDC, 0xD1), (0xDC, 0xD9), (0xDE, 0xD1), (0xDF, 0xD1), (0xDF, 0xD9) })
                {
                    a.db(first, second);
                    a.fnstsw(__word_ptr[rdi + R + 2 * first - 0x1B0 + (second & 0x38) / 4]);
                    a.fld1();
                }
                a.db(0xDF, 0xC1);
            }),
            S("ffreep and fninit", a =>
            {
                LoadAll(a);
                a.fninit();
                a.fld1();
                a.fld1();
                a.ffreep(st1);
            }),
        };
        X87Sequence.AssertAllMatchHost(list);
    }
}
