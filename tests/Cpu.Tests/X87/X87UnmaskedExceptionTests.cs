using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// The responses to unmasked exceptions against the host's x87: loads, arithmetic, comparisons and stores with an
/// unmasked #IS, #IA or #D, the state read by FNSAVE before a waiting instruction reports them.
/// </summary>
[TestClass]
public sealed class X87UnmaskedExceptionTests
{
    private const int Real64SignalingNaN = 0x10, Real64Denormal = 0x18, Real64QuietNaN = 0x20, Unmasked = 0x30;
    private const int Real32Denormal = 0x40, Real32SignalingNaN = 0x44, Real32QuietNaN = 0x48;
    private const int Real80SignalingNaN = 0x60, Real80PseudoDenormal = 0x70, Real80Denormal = 0x80, Real80Largest = 0x90, Real80Smallest = 0xA0;
    private const int Real64Huge = 0xB0, Real64Tiny = 0xB8;

    private static byte[] Operands()
    {
        var d = new byte[0x100];
        BitConverter.GetBytes(0x7FF0000000000001UL).CopyTo(d, Real64SignalingNaN);
        BitConverter.GetBytes(0x0000000000000001UL).CopyTo(d, Real64Denormal);
        BitConverter.GetBytes(0x7FF8000000000001UL).CopyTo(d, Real64QuietNaN);
        BitConverter.GetBytes((ushort)0x0340).CopyTo(d, Unmasked);
        BitConverter.GetBytes(0x00000001u).CopyTo(d, Real32Denormal);
        BitConverter.GetBytes(0x7F800001u).CopyTo(d, Real32SignalingNaN);
        BitConverter.GetBytes(0x7FC00001u).CopyTo(d, Real32QuietNaN);
        BitConverter.GetBytes(0xA000000000000001UL).CopyTo(d, Real80SignalingNaN);
        BitConverter.GetBytes((ushort)0x7FFF).CopyTo(d, Real80SignalingNaN + 8);
        BitConverter.GetBytes(0xB807E20466A6D15EUL).CopyTo(d, Real80PseudoDenormal);
        BitConverter.GetBytes(0x3807E20466A6D15EUL).CopyTo(d, Real80Denormal);
        BitConverter.GetBytes(ulong.MaxValue).CopyTo(d, Real80Largest);
        BitConverter.GetBytes((ushort)0x7FFE).CopyTo(d, Real80Largest + 8);
        BitConverter.GetBytes(0x8000000000000001UL).CopyTo(d, Real80Smallest);
        BitConverter.GetBytes((ushort)0x0001).CopyTo(d, Real80Smallest + 8);
        BitConverter.GetBytes(1e300).CopyTo(d, Real64Huge);
        BitConverter.GetBytes(1e-300).CopyTo(d, Real64Tiny);
        return d;
    }

    /// <summary>ST(0) = 1.0 and every exception unmasked, then the case.</summary>
    private static X87Sequence S(string name, Action<Assembler> body) => new(name, a =>
    {
        a.fld1();
        a.fldcw(__word_ptr[rdi + Unmasked]);
        body(a);
    }, Operands(), []);

    /// <summary>The case's operands loaded with exceptions masked, then every exception unmasked.</summary>
    private static X87Sequence Loaded(string name, Action<Assembler> load, Action<Assembler> body) => new(name, a =>
    {
        load(a);
        a.fldcw(__word_ptr[rdi + Unmasked]);
        body(a);
    }, Operands(), []);

    [TestMethod]
    public void UnmaskedExceptionResponsesMatchHost() => X87Sequence.AssertAllMatchHost([
        S("fcom with an empty register", a => a.fcom(st0, st3)),
        S("fcom m64 with an empty stack", a => { a.fstp(st0); a.fcom(__qword_ptr[rdi + Real64Denormal]); }),
        S("fcom m64 QNaN", a => a.fcom(__qword_ptr[rdi + Real64QuietNaN])),
        S("fcom m64 denormal", a => a.fcom(__qword_ptr[rdi + Real64Denormal])),
        S("fcom m32 denormal", a => a.fcom(__dword_ptr[rdi + Real32Denormal])),
        S("fcom m32 SNaN", a => a.fcom(__dword_ptr[rdi + Real32SignalingNaN])),
        S("fucomp with an empty register", a => a.fucomp(st0, st3)),
        S("fcomp m64 with an empty stack", a => { a.fstp(st0); a.fcomp(__qword_ptr[rdi + Real64Denormal]); }),
        S("fcompp with an empty register", a => a.fcompp()),
        S("fcomi with an empty register", a => a.fcomi(st0, st3)),
        S("ftst with an empty stack", a => { a.fstp(st0); a.ftst(); }),
        S("fadd with an empty register", a => a.fadd(st0, st3)),
        S("fadd m32 denormal", a => a.fadd(__dword_ptr[rdi + Real32Denormal])),
        S("fadd m32 SNaN", a => a.fadd(__dword_ptr[rdi + Real32SignalingNaN])),
        S("fld of an empty register", a => a.fld(st3)),
        S("fld onto a full stack", a => { for (var i = 0; i < 8; i++) a.fldz(); }),
        S("fld m32 denormal", a => a.fld(__dword_ptr[rdi + Real32Denormal])),
        S("fld m32 SNaN", a => a.fld(__dword_ptr[rdi + Real32SignalingNaN])),
        S("fld m64 denormal", a => a.fld(__qword_ptr[rdi + Real64Denormal])),
        S("fld m64 SNaN", a => a.fld(__qword_ptr[rdi + Real64SignalingNaN])),
        S("fst of an empty stack", a => { a.fstp(st0); a.fst(__qword_ptr[rdi + 0x100]); }),
        S("fistp of an empty stack", a => { a.fstp(st0); a.fistp(__dword_ptr[rdi + 0x100]); }),
        S("fxch with an empty register", a => a.fxch(st0, st3)),
        S("fprem with an empty register", a => a.fprem()),
        S("fcmove with an empty register", a => a.fcmove(st0, st3)),
        S("fchs of an empty stack", a => { a.fstp(st0); a.fchs(); }),
        S("fxam of an empty stack", a => { a.fstp(st0); a.fxam(); }),
        Loaded("fucom with a register SNaN", a => { a.fld(__tword_ptr[rdi + Real80SignalingNaN]); a.fld1(); }, a => a.fucom(st0, st1)),
        Loaded("fucom QNaN with a denormal", a => { a.fld(__dword_ptr[rdi + Real32Denormal]); a.fld(__dword_ptr[rdi + Real32QuietNaN]); }, a => a.fucom(st0, st1)),
        Loaded("fucomp SNaN with a denormal", a => { a.fld(__dword_ptr[rdi + Real32Denormal]); a.fld(__tword_ptr[rdi + Real80SignalingNaN]); }, a => a.fucomp(st0, st1)),
        Loaded("fsqrt of a denormal", a => a.fld(__tword_ptr[rdi + Real80Denormal]), a => a.fsqrt()),
        Loaded("pseudo-denormal with an empty register", a => a.fld(__tword_ptr[rdi + Real80PseudoDenormal]), a => a.fucomp(st0, st6)),
        Loaded("pseudo-denormal with 1", a => { a.fld1(); a.fld(__tword_ptr[rdi + Real80PseudoDenormal]); }, a => a.fucomp(st0, st1)),
        Loaded("denormal with an empty register", a => a.fld(__tword_ptr[rdi + Real80Denormal]), a => a.fucomp(st0, st6)),
        Loaded("denormal with an SNaN", a => { a.fld(__tword_ptr[rdi + Real80SignalingNaN]); a.fld(__tword_ptr[rdi + Real80Denormal]); }, a => a.fcom(st0, st1)),
        Loaded("an empty register with a denormal", a => { a.fld(__tword_ptr[rdi + Real80Denormal]); a.fdecstp(); }, a => a.fcom(st0, st1)),
        Loaded("fadd of a denormal and an empty register", a => a.fld(__tword_ptr[rdi + Real80Denormal]), a => a.fadd(st0, st6)),
        Loaded("fdiv by zero", a => { a.fldz(); a.fld1(); }, a => a.fdiv(st0, st1)),
        Loaded("fst m32 overflow", a => a.fld(__qword_ptr[rdi + Real64Huge]), a => a.fst(__dword_ptr[rdi + 0x100])),
        Loaded("fstp m32 underflow", a => a.fld(__qword_ptr[rdi + Real64Tiny]), a => a.fstp(__dword_ptr[rdi + 0x100])),
        Loaded("fist overflow", a => a.fld(__qword_ptr[rdi + Real64Huge]), a => a.fistp(__word_ptr[rdi + 0x100])),
        Loaded("fbstp overflow", a => a.fld(__qword_ptr[rdi + Real64Huge]), a => a.fbstp(__tword_ptr[rdi + 0x100])),
        Loaded("fmul overflow, bias-adjusted", a => a.fld(__tword_ptr[rdi + Real80Largest]), a => a.fmul(st0, st0)),
        Loaded("fmul underflow, bias-adjusted", a => a.fld(__tword_ptr[rdi + Real80Smallest]), a => a.fmul(st0, st0)),
        Loaded("fadd inexact", a => { a.fld1(); a.fld(__qword_ptr[rdi + Real64Tiny]); }, a => a.faddp(st1, st0)),
        Loaded("fscale far overflow", a => { a.fld(__qword_ptr[rdi + Real64Huge]); a.fld1(); }, a => a.fscale()),
        Loaded("fsqrt of -1", a => { a.fld1(); a.fchs(); }, a => a.fsqrt()),
        Loaded("fxtract of zero", a => a.fldz(), a => a.fxtract()),
        Loaded("fprem of infinity", a => { a.fld1(); a.fld(__tword_ptr[rdi + Real80Largest]); a.fmul(st0, st0); }, a => a.fprem()),
    ]);
}
