using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// Generates cases for one mode from a seed: random initial state, 1–3 instructions drawn from
/// every encoding of the covered mnemonics (or from a template for stack, string, branch and fault
/// cases), and the per-step masks of what the SDM leaves undefined.
/// </summary>
public sealed partial class CaseGenerator
{
    private const int Rsp = 4;
    private const int Rcx = 1;

    private static readonly Register[] Legacy8 = [Register.AL, Register.CL, Register.DL, Register.BL, Register.AH, Register.CH, Register.DH, Register.BH];
    private static readonly Register[] Long8 =
    [
        Register.AL, Register.CL, Register.DL, Register.BL, Register.AH, Register.CH, Register.DH, Register.BH,
        Register.BPL, Register.SIL, Register.DIL, Register.R8L, Register.R9L, Register.R10L, Register.R11L,
        Register.R12L, Register.R13L, Register.R14L, Register.R15L,
    ];

    private static readonly HashSet<Mnemonic> StackMnemonics =
    [
        Mnemonic.Push, Mnemonic.Pop, Mnemonic.Pusha, Mnemonic.Pushad, Mnemonic.Popa, Mnemonic.Popad,
        Mnemonic.Pushf, Mnemonic.Pushfd, Mnemonic.Pushfq, Mnemonic.Popf, Mnemonic.Popfd, Mnemonic.Popfq,
        Mnemonic.Enter, Mnemonic.Leave,
    ];

    private readonly GuestMode _mode;
    private readonly int _bitness;
    private readonly Random _rng;
    private readonly InstructionPool _pool;
    private readonly Encoder _encoder;
    private readonly InstructionInfoFactory _info = new();

    public CaseGenerator(GuestMode mode, int seed)
    {
        _mode = mode;
        _bitness = mode.Bitness();
        _rng = new Random(seed);
        _pool = new InstructionPool(_bitness);
        _encoder = Encoder.Create(_bitness, new NullCodeWriter());
        Pristine = new byte[DataLayout.ScratchSize];
        _rng.NextBytes(Pristine);
    }

    /// <summary>The scratch area's contents before each case's overrides.</summary>
    public byte[] Pristine { get; }

    private int RegisterCount => _mode.RegisterCount();

    public TestCase Generate(int index)
    {
        for (var attempt = 0; ; attempt++)
        {
            var draft = new CaseDraft { Kind = "generic", Plan = NewPlan() };
            var ok = _rng.Next(100) switch
            {
                < 52 => GenericSequence(draft),
                < 59 => FlagsTemplate(draft),
                < 64 => StackPointerTemplate(draft),
                < 69 => EnterLeaveTemplate(draft),
                < 71 => StackSegmentTemplate(draft),
                < 78 => StringTemplate(draft),
                < 84 => ConditionalBranchTemplate(draft),
                < 88 => LoopTemplate(draft),
                < 90 => XlatTemplate(draft),
                _ => FaultTemplate(draft),
            };
            if (!ok || draft.Steps.Count == 0 || !CheckWrites(draft)) continue;
            var c = Finish(index, draft);
            if (c != null) return c;
            if (attempt > 10000) throw new InvalidOperationException("generator cannot produce a valid case");
        }
    }

    private bool GenericSequence(CaseDraft d)
    {
        var count = 1 + _rng.Next(3);
        for (var i = 0; i < count; i++)
        {
            if (!TryGeneric(d, PickMnemonic(), allowMemory: true, out var ins)) return false;
            d.Add(ins);
        }
        d.Kind = "generic";
        return true;
    }

    private Mnemonic PickMnemonic() => _pool.All[_rng.Next(_pool.All.Length)];

    private bool TryGeneric(CaseDraft d, Mnemonic mnemonic, bool allowMemory, out Instruction ins)
    {
        ins = default;
        if (!_pool.ByMnemonic.TryGetValue(mnemonic, out var codes)) return false;
        var code = codes[_rng.Next(codes.Count)];
        var op = code.ToOpCode();
        ins.Code = code;
        var usesMemory = false;
        for (var i = 0; i < op.OpCount; i++)
        {
            var kind = op.GetOpKind(i);
            switch (kind)
            {
                case OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r64_or_mem:
                    if (allowMemory && _rng.Next(100) < 45)
                    {
                        d.Plan.Apply(ref ins, i);
                        usesMemory = d.PlanUsed = true;
                    }
                    else SetRegister(ref ins, i, RandomRegister(KindBytes(kind)));
                    break;
                case OpCodeOperandKind.mem:
                    if (code.Mnemonic() == Mnemonic.Lea) FreePlan().Apply(ref ins, i);
                    else
                    {
                        if (!allowMemory) return false;
                        d.Plan.Apply(ref ins, i);
                        usesMemory = d.PlanUsed = true;
                    }
                    break;
                case OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode or OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_opcode
                    or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_opcode or OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_opcode
                    or OpCodeOperandKind.r32_vvvv or OpCodeOperandKind.r64_vvvv:
                    SetRegister(ref ins, i, RandomRegister(KindBytes(kind)));
                    break;
                case OpCodeOperandKind.al: SetRegister(ref ins, i, Register.AL); break;
                case OpCodeOperandKind.ax: SetRegister(ref ins, i, Register.AX); break;
                case OpCodeOperandKind.eax: SetRegister(ref ins, i, Register.EAX); break;
                case OpCodeOperandKind.rax: SetRegister(ref ins, i, Register.RAX); break;
                case OpCodeOperandKind.cl: SetRegister(ref ins, i, Register.CL); break;
                case OpCodeOperandKind.dx: SetRegister(ref ins, i, Register.DX); break;
                default:
                    SetImmediate(ref ins, i, kind, ImmediateValue(code.Mnemonic()));
                    break;
            }
        }
        // LOCK only on memory forms here: QEMU 7.2 misses the #UD of some register forms (LOCK XADD
        // reg, LOCK BTS reg aborts TCG); the fault templates cover register forms QEMU handles.
        if (op.CanUseLockPrefix && usesMemory && _rng.Next(100) < 15) ins.HasLockPrefix = true;
        if (IsBitTestWithRegisterOffset(ins) && !PinBitOffset(d, ins)) return false;
        return Encodable(ins);
    }

    /// <summary>BT* m, r: the register is a signed bit offset; keep the access within the scratch area.</summary>
    private static bool IsBitTestWithRegisterOffset(in Instruction ins) =>
        ins.Mnemonic is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc
        && ins.OpCount == 2 && ins.Op0Kind == OpKind.Memory && ins.Op1Kind == OpKind.Register;

    private bool PinBitOffset(CaseDraft d, in Instruction ins)
    {
        var reg = FullIndex(ins.Op1Register);
        if (reg == FullIndexOrNone(d.Plan.Base) || reg == FullIndexOrNone(d.Plan.Index)) return false;
        var offset = (ulong)(long)_rng.Next(-0x200, 0x200);
        if (!d.Force(reg, offset)) return false;
        d.Reserved.Add(reg);
        return true;
    }

    private bool Encodable(in Instruction ins) => _encoder.TryEncode(ins, 0x1000, out _, out _);

    private static int KindBytes(OpCodeOperandKind kind) => kind switch
    {
        OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode => 1,
        OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_opcode => 2,
        OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_opcode or OpCodeOperandKind.r32_vvvv => 4,
        _ => 8,
    };

    private static void SetRegister(ref Instruction ins, int operand, Register reg)
    {
        ins.SetOpKind(operand, OpKind.Register);
        ins.SetOpRegister(operand, reg);
    }

    private static void SetImmediate(ref Instruction ins, int operand, OpCodeOperandKind kind, ulong v)
    {
        switch (kind)
        {
            case OpCodeOperandKind.imm8:
                ins.SetOpKind(operand, OpKind.Immediate8);
                ins.Immediate8 = (byte)v;
                break;
            case OpCodeOperandKind.imm8_const_1:
                ins.SetOpKind(operand, OpKind.Immediate8);
                ins.Immediate8 = 1;
                break;
            case OpCodeOperandKind.imm8sex16:
                ins.SetOpKind(operand, OpKind.Immediate8to16);
                ins.Immediate8to16 = (sbyte)v;
                break;
            case OpCodeOperandKind.imm8sex32:
                ins.SetOpKind(operand, OpKind.Immediate8to32);
                ins.Immediate8to32 = (sbyte)v;
                break;
            case OpCodeOperandKind.imm8sex64:
                ins.SetOpKind(operand, OpKind.Immediate8to64);
                ins.Immediate8to64 = (sbyte)v;
                break;
            case OpCodeOperandKind.imm16:
                ins.SetOpKind(operand, OpKind.Immediate16);
                ins.Immediate16 = (ushort)v;
                break;
            case OpCodeOperandKind.imm32:
                ins.SetOpKind(operand, OpKind.Immediate32);
                ins.Immediate32 = (uint)v;
                break;
            case OpCodeOperandKind.imm32sex64:
                ins.SetOpKind(operand, OpKind.Immediate32to64);
                ins.Immediate32to64 = (int)v;
                break;
            case OpCodeOperandKind.imm64:
                ins.SetOpKind(operand, OpKind.Immediate64);
                ins.Immediate64 = v;
                break;
            default:
                throw new InvalidOperationException($"operand kind {kind}");
        }
    }

    private ulong ImmediateValue(Mnemonic m)
    {
        if (UndefinedBehaviour.NeedsValue(m)) return ShiftCount();
        if (m is Mnemonic.Aam or Mnemonic.Aad) return _rng.Next(4) == 0 ? (ulong)_rng.Next(3) : _rng.Next(2) == 0 ? 10UL : (ulong)_rng.Next(256);
        return RandomValue(64);
    }

    private ulong ShiftCount()
    {
        ulong[] edges = [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65];
        return _rng.Next(3) == 0 ? (ulong)_rng.Next(256) : edges[_rng.Next(edges.Length)];
    }

    /// <summary>Edge values (0, 1, -1, the extremes of each width, small counts) and random bits.</summary>
    public ulong RandomValue(int bits)
    {
        var mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        ulong v = _rng.Next(12) switch
        {
            0 => 0,
            1 => 1,
            2 => ulong.MaxValue,
            3 => (mask >> 1),
            4 => (mask >> 1) + 1,
            5 => (ulong)_rng.Next(0, 70),
            6 => (ulong)-_rng.Next(1, 70),
            7 => new ulong[] { 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000 }[_rng.Next(10)]
                 | (_rng.Next(2) == 0 ? 0 : RandomBits() & ~0xFFFFFFFFFUL),
            _ => RandomBits(),
        };
        return v & mask;
    }

    private ulong RandomBits() => (ulong)_rng.NextInt64() ^ ((ulong)_rng.Next(2) << 63);

    private Register RandomRegister(int bytes)
    {
        if (bytes == 1)
        {
            var list = _bitness == 64 ? Long8 : Legacy8;
            return list[_rng.Next(list.Length)];
        }
        var index = RandomGpr();
        return bytes switch
        {
            2 => Register.AX + index,
            4 => Register.EAX + index,
            _ => Register.RAX + index,
        };
    }

    private int RandomGpr()
    {
        while (true)
        {
            var i = _rng.Next(RegisterCount);
            if (i != Rsp) return i;
        }
    }

    private static int FullIndex(Register reg) => reg.GetFullRegister() - Register.RAX;

    private static int FullIndexOrNone(Register reg) => reg == Register.None ? -1 : FullIndex(reg);

    /// <summary>Rejects cases whose early steps overwrite a register a later step relies on, or RSP outside stack templates.</summary>
    private bool CheckWrites(CaseDraft d)
    {
        for (var i = 0; i < d.Steps.Count; i++)
        {
            var ins = d.Steps[i].Instruction;
            if (ins.Code == Code.INVALID) continue;
            foreach (var used in _info.GetInfo(ins).GetUsedRegisters())
            {
                if (!Writes(used.Access) || !used.Register.IsGPR()) continue;
                var r = FullIndex(used.Register);
                if (r == Rsp && !(d.AllowStackPointerWrite || StackMnemonics.Contains(ins.Mnemonic))) return false;
                if (i < d.Steps.Count - 1 && (d.Reserved.Contains(r) || r == FullIndexOrNone(d.Plan.Base) || r == FullIndexOrNone(d.Plan.Index)))
                    return false;
            }
        }
        return true;
    }

    private static bool Writes(OpAccess a) => a is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite;

    private static bool Reads(OpAccess a) => a is OpAccess.Read or OpAccess.CondRead or OpAccess.ReadWrite or OpAccess.ReadCondWrite;
}
