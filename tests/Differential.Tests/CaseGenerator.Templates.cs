using Iced.Intel;

namespace Sim.Differential.Tests;

public sealed partial class CaseGenerator
{
    private Instruction One(Action<Assembler> build)
    {
        var a = new Assembler(_bitness);
        build(a);
        return a.Instructions[0];
    }

    /// <summary>A branch as Iced sees it, for tracking only (the builder emits it against a real label).</summary>
    private Instruction BranchShape(Action<Assembler, Label> build)
    {
        var a = new Assembler(_bitness);
        var l = a.CreateLabel();
        build(a, l);
        a.Label(ref l);
        a.nop();
        return a.Instructions[0];
    }

    private Code PushImmediateCode => _bitness switch { 16 => Code.Push_imm16, 32 => Code.Pushd_imm32, _ => Code.Pushq_imm32 };

    private Code PopfCode => _bitness switch { 16 => Code.Popfw, 32 => Code.Popfd, _ => Code.Popfq };

    /// <summary>PUSH imm; POPF with random status flags and DF (never TF or IF), then maybe a flag reader.</summary>
    private bool FlagsTemplate(CaseDraft d)
    {
        d.Kind = "popf";
        var push = Instruction.Create(PushImmediateCode, 0);
        var value = 0x2u | ((uint)_rng.Next() & Eflags.Compared);
        if (_bitness == 16) push.Immediate16 = (ushort)value;
        else if (_bitness == 32) push.Immediate32 = value;
        else push.Immediate32to64 = value;
        d.Add(push);
        d.Add(Instruction.Create(PopfCode));
        if (_rng.Next(2) == 0)
        {
            Mnemonic[] readers = [Mnemonic.Adc, Mnemonic.Sbb, Mnemonic.Seto, Mnemonic.Setp, Mnemonic.Setl, Mnemonic.Cmovbe, Mnemonic.Cmovg, Mnemonic.Lahf, Mnemonic.Pushf, Mnemonic.Rcl, Mnemonic.Cmc];
            if (!TryGeneric(d, readers[_rng.Next(readers.Length)], true, out var ins)) return false;
            d.Add(ins);
        }
        return true;
    }

    /// <summary>PUSH rSP and POP rSP, with a valid stack pointer waiting on the stack for the pop.</summary>
    private bool StackPointerTemplate(CaseDraft d)
    {
        d.Kind = "push/pop rsp";
        d.AllowStackPointerWrite = true;
        var sp = _bitness switch { 16 => Register.SP, 32 => Register.ESP, _ => Register.RSP };
        var push = Instruction.Create(_bitness switch { 16 => Code.Push_r16, 32 => Code.Push_r32, _ => Code.Push_r64 }, sp);
        var pop = Instruction.Create(_bitness switch { 16 => Code.Pop_r16, 32 => Code.Pop_r32, _ => Code.Pop_r64 }, sp);
        var newSp = DataLayout.Address(_mode, DataLayout.CaseStack - 0x10 - (uint)_rng.Next(0, 8) * 4);
        d.Overrides.Add((DataLayout.CaseStack - DataLayout.Scratch, newSp));
        d.Overrides.Add((DataLayout.CaseStack - DataLayout.Scratch + 4, 0));
        switch (_rng.Next(4))
        {
            case 0: d.Add(push); break;
            case 1: d.Add(pop); break;
            case 2: d.Add(push); d.Add(pop); break;
            default:
                d.Add(pop);
                if (!TryGeneric(d, Mnemonic.Push, true, out var p)) return false;
                d.Add(p);
                break;
        }
        return true;
    }

    /// <summary>
    /// ENTER with every nesting level (0–31, and above, which the SDM takes mod 32), the mode's
    /// operand size or the other one (66h), and LEAVE, with rBP pointing into the scratch area.
    /// </summary>
    private bool EnterLeaveTemplate(CaseDraft d)
    {
        d.Kind = "enter/leave";
        var bp = DataLayout.Address(_mode, DataLayout.Scratch + 0x180 + (uint)_rng.Next(0, 8) * 4);
        if (_bitness == 16) bp |= (uint)RandomValue(32) & 0xFFFF0000;
        if (!d.Force(5, bp)) return false;
        var size = (ushort)_rng.Next(0, _rng.Next(4) == 0 ? 0x40 : 0x10);
        var level = (byte)(_rng.Next(6) == 0 ? _rng.Next(32, 256) : _rng.Next(0, 32));
        var operandSize = _rng.Next(3) == 0 ? (_bitness == 16 ? 32 : 16) : _bitness;
        var enter = Instruction.Create(operandSize switch { 16 => Code.Enterw_imm16_imm8, 32 => Code.Enterd_imm16_imm8, _ => Code.Enterq_imm16_imm8 }, size, level);
        var leave = Instruction.Create(operandSize switch { 16 => Code.Leavew, 32 => Code.Leaved, _ => Code.Leaveq });
        switch (_rng.Next(3))
        {
            case 0: d.Add(enter); break;
            case 1: d.Add(leave); break;
            default: d.Add(enter); d.Add(leave); break;
        }
        d.Kind = $"enter/leave o{operandSize}";
        return true;
    }

    /// <summary>MOVS/CMPS/STOS/LODS/SCAS of every width with and without REP/REPE/REPNE, small counts, DF either way.</summary>
    private bool StringTemplate(CaseDraft d)
    {
        d.Kind = "string";
        var addressSize = _bitness == 16 ? (_rng.Next(4) == 0 ? 32 : 16) : _bitness == 32 ? (_rng.Next(5) == 0 ? 16 : 32) : (_rng.Next(5) == 0 ? 32 : 64);
        var width = _rng.Next(_bitness == 64 ? 4 : 3);
        var op = _rng.Next(5);
        var rep = _rng.Next(4) switch { 0 => RepPrefixKind.None, 1 => RepPrefixKind.Repe, 2 => RepPrefixKind.Repne, _ => RepPrefixKind.Repe };
        var segment = _rng.Next(4) == 0 ? Register.ES : Register.None;
        Instruction ins = (op, width) switch
        {
            (0, 0) => Instruction.CreateMovsb(addressSize, segment, rep),
            (0, 1) => Instruction.CreateMovsw(addressSize, segment, rep),
            (0, 2) => Instruction.CreateMovsd(addressSize, segment, rep),
            (0, _) => Instruction.CreateMovsq(addressSize, segment, rep),
            (1, 0) => Instruction.CreateCmpsb(addressSize, segment, rep),
            (1, 1) => Instruction.CreateCmpsw(addressSize, segment, rep),
            (1, 2) => Instruction.CreateCmpsd(addressSize, segment, rep),
            (1, _) => Instruction.CreateCmpsq(addressSize, segment, rep),
            (2, 0) => Instruction.CreateStosb(addressSize, rep),
            (2, 1) => Instruction.CreateStosw(addressSize, rep),
            (2, 2) => Instruction.CreateStosd(addressSize, rep),
            (2, _) => Instruction.CreateStosq(addressSize, rep),
            (3, 0) => Instruction.CreateLodsb(addressSize, segment, rep),
            (3, 1) => Instruction.CreateLodsw(addressSize, segment, rep),
            (3, 2) => Instruction.CreateLodsd(addressSize, segment, rep),
            (3, _) => Instruction.CreateLodsq(addressSize, segment, rep),
            (_, 0) => Instruction.CreateScasb(addressSize, rep),
            (_, 1) => Instruction.CreateScasw(addressSize, rep),
            (_, 2) => Instruction.CreateScasd(addressSize, rep),
            _ => Instruction.CreateScasq(addressSize, rep),
        };
        if (!PinStringRegister(d, 6, addressSize, 0x80 + (uint)_rng.Next(0, 0x100))) return false;
        if (!PinStringRegister(d, 7, addressSize, 0x80 + (uint)_rng.Next(0, 0x100))) return false;
        var count = (ulong)_rng.Next(0, 7);
        if (addressSize == 16) count |= RandomValue(32) & 0xFFFF0000;
        else if (addressSize == 32 && _bitness == 64) count |= RandomBits() & ~0xFFFFFFFFUL;
        if (!d.Force(Rcx, count)) return false;
        d.Reserved.Add(Rcx);
        if (_rng.Next(3) == 0 && !TryPrefixStep(d)) return false;
        d.Add(ins);
        return true;
    }

    /// <summary>A flag-setting step before a string instruction or branch, so that it sees computed flags.</summary>
    private bool TryPrefixStep(CaseDraft d)
    {
        var fully = InstructionPool.FullyDefined.ToArray();
        if (!TryGeneric(d, fully[_rng.Next(fully.Length)], false, out var ins)) return false;
        d.Add(ins);
        return true;
    }

    private bool PinStringRegister(CaseDraft d, int register, int addressSize, uint scratchOffset)
    {
        ulong value = DataLayout.Address(_mode, DataLayout.Scratch + scratchOffset);
        if (addressSize == 16) value |= RandomValue(32) & 0xFFFF0000;
        else if (addressSize == 32 && _bitness == 64) value |= RandomBits() & ~0xFFFFFFFFUL;
        d.Reserved.Add(register);
        return d.Force(register, value);
    }

    /// <summary>Jcc over one step, for all 16 conditions, on the initial flags or on flags a step computed.</summary>
    private bool ConditionalBranchTemplate(CaseDraft d)
    {
        d.Kind = "jcc";
        if (_rng.Next(2) == 0 && !TryPrefixStep(d)) return false;
        var cc = _rng.Next(16);
        var shape = BranchShape((a, l) => EmitConditional(a, cc, l));
        d.Add(shape, d.Steps.Count + 2);
        return TryPrefixStep(d);
    }

    public static void EmitConditional(Assembler a, int cc, Label l)
    {
        switch (cc)
        {
            case 0: a.jo(l); break;
            case 1: a.jno(l); break;
            case 2: a.jb(l); break;
            case 3: a.jae(l); break;
            case 4: a.je(l); break;
            case 5: a.jne(l); break;
            case 6: a.jbe(l); break;
            case 7: a.ja(l); break;
            case 8: a.js(l); break;
            case 9: a.jns(l); break;
            case 10: a.jp(l); break;
            case 11: a.jnp(l); break;
            case 12: a.jl(l); break;
            case 13: a.jge(l); break;
            case 14: a.jle(l); break;
            default: a.jg(l); break;
        }
    }

    /// <summary>LOOP/LOOPE/LOOPNE around a fully defined step, and JrCXZ over one.</summary>
    private bool LoopTemplate(CaseDraft d)
    {
        d.Kind = "loop";
        var count = (ulong)_rng.Next(0, 5);
        var kind = _rng.Next(4);
        if (kind < 3 && count == 0) count = 1;
        if (_bitness == 16) count |= RandomValue(32) & 0xFFFF0000;
        else if (_bitness == 64 && kind == 3 && _rng.Next(2) == 0) count |= RandomBits() & ~0xFFFFFFFFUL;
        if (!d.Force(Rcx, count)) return false;
        d.Reserved.Add(Rcx);
        if (kind == 3)
        {
            var shape = BranchShape((a, l) => EmitCountBranch(a, _bitness, 3, l));
            d.Add(shape, 2);
            return TryLoopBody(d);
        }
        if (!TryLoopBody(d)) return false;
        d.Add(BranchShape((a, l) => EmitCountBranch(a, _bitness, kind, l)), 0);
        return true;
    }

    private bool TryLoopBody(CaseDraft d)
    {
        Mnemonic[] body = [Mnemonic.Add, Mnemonic.Sub, Mnemonic.Adc, Mnemonic.Sbb, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg, Mnemonic.Cmp];
        if (!TryGeneric(d, body[_rng.Next(body.Length)], false, out var ins)) return false;
        foreach (var used in _info.GetInfo(ins).GetUsedRegisters())
            if (used.Register.IsGPR() && FullIndex(used.Register) == Rcx && Writes(used.Access)) return false;
        d.Add(ins);
        return true;
    }

    /// <summary>kind 0 LOOP, 1 LOOPE, 2 LOOPNE, 3 JCXZ/JECXZ/JRCXZ (the mode's default size).</summary>
    public static void EmitCountBranch(Assembler a, int bitness, int kind, Label l)
    {
        switch (kind)
        {
            case 0: a.loop(l); break;
            case 1: a.loope(l); break;
            case 2: a.loopne(l); break;
            default:
                if (bitness == 16) a.jcxz(l);
                else if (bitness == 32) a.jecxz(l);
                else a.jrcxz(l);
                break;
        }
    }

    /// <summary>XLAT with rBX pointing into the scratch area.</summary>
    private bool XlatTemplate(CaseDraft d)
    {
        d.Kind = "xlat";
        var bx = DataLayout.Address(_mode, DataLayout.Scratch + 0x40 + (uint)_rng.Next(0, 0x80));
        ulong value = bx;
        if (_bitness == 16) value |= RandomValue(32) & 0xFFFF0000;
        if (!d.Force(3, value)) return false;
        d.Reserved.Add(3);
        d.Add(One(a => a.xlatb()));
        return true;
    }

    /// <summary>
    /// Cases meant to fault: invalid opcodes, LOCK misuse, page faults, non-canonical addresses, #DE,
    /// #BR, #OF. No segment-limit or write-protection violations: QEMU's TCG checks neither for data
    /// accesses (an access past a 3Fh limit through FS, or past FFFFh in real mode, runs on QEMU);
    /// <see cref="GenerateBochsOnly"/> covers them against Bochs.
    /// </summary>
    private bool FaultTemplate(CaseDraft d)
    {
        d.Kind = "fault";
        // Compatibility mode has paging on, so it gets the page faults too (but no canonical checks).
        switch (_rng.Next(_bitness == 64 ? 6 : _mode == GuestMode.Compat32 ? 5 : 4))
        {
            case 0:
                return Raw(d, InvalidOpcodes[_rng.Next(InvalidOpcodes.Length)]);
            case 1:
                return Raw(d, _bitness == 64 ? InvalidIn64[_rng.Next(InvalidIn64.Length)] : LockMisuse[_rng.Next(LockMisuse.Length)]);
            case 2:
            {
                Mnemonic[] m = [Mnemonic.Div, Mnemonic.Idiv];
                if (!TryGeneric(d, m[_rng.Next(2)], true, out var ins)) return false;
                if (ins.Op0Kind == OpKind.Register)
                {
                    var r = FullIndex(ins.Op0Register);
                    var v = _rng.Next(2) == 0 ? 0UL : 1UL;
                    if (!d.Force(r, v)) return false;
                }
                d.Add(ins);
                return true;
            }
            case 3:
            {
                if (_bitness == 64) return Raw(d, LockMisuse[_rng.Next(LockMisuse.Length)]);
                var m = _rng.Next(2) == 0 ? Mnemonic.Bound : Mnemonic.Into;
                if (!TryGeneric(d, m, true, out var ins)) return false;
                d.Add(ins);
                return true;
            }
            case 4:
                return PageFaultTemplate(d);
            default:
                return NonCanonicalTemplate(d);
        }
    }

    private bool Raw(CaseDraft d, byte[] bytes)
    {
        var decoder = Decoder.Create(_bitness, bytes);
        decoder.Decode(out var ins);
        d.Add(ins, raw: bytes);
        return true;
    }

    private static readonly byte[][] InvalidOpcodes =
    [
        [0x0F, 0x0B],
        [0x0F, 0xB9, 0xC0],
        [0xFE, 0xD0],
        [0xFE, 0xF8],
        [0xFF, 0xF8],
        [0x0F, 0x0B, 0x90],
    ];

    /// <summary>LOCK on register forms. Not LOCK BTS/BTR/BTC reg (QEMU 7.2's TCG aborts, "tcg fatal error") nor LOCK MOV (QEMU runs it).</summary>
    private static readonly byte[][] LockMisuse =
    [
        [0xF0, 0x01, 0xC0],
        [0xF0, 0x90],
        [0xF0, 0xF7, 0xD8],
    ];

    private static readonly byte[][] InvalidIn64 =
    [
        [0x06], [0x07], [0x0E], [0x16], [0x17], [0x1E], [0x1F], [0x27], [0x2F], [0x37], [0x3F],
        [0x60], [0x61], [0xCE], [0xD4, 0x0A], [0xD5, 0x0A],
    ];

    /// <summary>
    /// Loads, stores and a jump to the unmapped GiB at 4000_0000h (and accesses straddling its start).
    /// No read-modify-write: QEMU reports W/R=0 for its load, hardware reports the write (covered against Bochs).
    /// </summary>
    private bool PageFaultTemplate(CaseDraft d)
    {
        d.Kind = "#PF";
        var kind = _rng.Next(5);
        // The jump only into the unmapped range: fetching from the mapped page below it, past the end
        // of RAM, throws in sim (a known bug) instead of reading open bus.
        var straddle = kind != 4 && _rng.Next(4) == 0;
        var address = straddle ? DataLayout.UnmappedLinear - (ulong)_rng.Next(1, 4) : DataLayout.UnmappedLinear + (ulong)_rng.Next(0, 0x4000);
        if (!d.Force(3, address)) return false;
        d.Reserved.Add(3);
        var wide = _bitness == 64;
        var mem = new MemoryOperand(wide ? Register.RBX : Register.EBX);
        d.Add(kind switch
        {
            0 or 1 => Instruction.Create(Code.Mov_r32_rm32, Register.EAX, mem),
            2 => Instruction.Create(Code.Mov_rm32_r32, mem, Register.ECX),
            3 => Instruction.Create(wide ? Code.Push_rm64 : Code.Push_rm32, mem),
            _ => wide ? Instruction.Create(Code.Jmp_rm64, Register.RBX) : Instruction.Create(Code.Jmp_rm32, Register.EBX),
        });
        return true;
    }

    /// <summary>Non-canonical addresses through rBX: #GP(0). Not through rBP/rSP, where the SDM says #SS(0) but QEMU raises #GP(0) (covered against Bochs).</summary>
    private bool NonCanonicalTemplate(CaseDraft d)
    {
        d.Kind = "non-canonical";
        var address = (_rng.Next(2) == 0 ? 0x0000800000000000UL : 0xFFFF000000000000UL) + (ulong)_rng.Next(0, 0x10000) * 0x1000 + (ulong)_rng.Next(0, 16);
        const int reg = 3;
        if (!d.Force(reg, address)) return false;
        d.Reserved.Add(reg);
        var mem = new MemoryOperand(Register.RAX + reg);
        d.Add(_rng.Next(3) switch
        {
            0 => Instruction.Create(Code.Mov_r32_rm32, Register.EAX, mem),
            1 => Instruction.Create(Code.Mov_rm64_r64, mem, Register.RCX),
            _ => Instruction.Create(Code.Inc_rm16, mem),
        });
        return true;
    }
}
