using Iced.Intel;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using IcedRegister = Iced.Intel.Register;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    private const int MaxBlockInstructions = 64;
    private readonly byte[] _fetchBuffer = new byte[4096 + 16];
    private readonly DecodedOp[] _opScratch = new DecodedOp[MaxBlockInstructions];
    private readonly Iced.Intel.Code[] _codeScratch = new Iced.Intel.Code[MaxBlockInstructions];
    private readonly FetchCodeReader _fetchReader = new();
    private readonly Iced.Intel.Decoder?[] _decoders = new Iced.Intel.Decoder?[3];
    private readonly byte[] _crossPageBytes = new byte[15];

    /// <summary>The one block an instruction that crosses a page decodes into; it is executed at once and never cached.</summary>
    private readonly DecodedBlock _crossPageBlock = new(ulong.MaxValue, 0, new DecodedOp[1], new Iced.Intel.Code[1], 1, 0) { Cacheable = false };

    /// <summary>The decoder for the current code size, reading from <see cref="_fetchReader"/> (set up by the caller), at IP <paramref name="ip"/>.</summary>
    private Iced.Intel.Decoder DecoderAt(ulong ip)
    {
        var index = _bitness == 16 ? 0 : _bitness == 32 ? 1 : 2;
        var decoder = _decoders[index] ??= Iced.Intel.Decoder.Create(_bitness, _fetchReader);
        decoder.IP = ip;
        return decoder;
    }

    /// <summary>
    /// Decodes a block at linear <paramref name="linear"/> (physical <paramref name="physical"/>);
    /// caches it unless its first instruction crosses a page. The block is a trace within one page:
    /// it follows direct JMP and CALL to targets on the same page, and follows backward conditional
    /// branches (loops) as if taken, leaving the block when they are not.
    /// </summary>
    private DecodedBlock? Decode(ulong linear, ulong physical)
    {
        var pageBase = physical & ~0xFFFUL;
        var pageOffset = (int)(physical & 0xFFF);
        for (var i = 0; i < 4096; i++) _fetchBuffer[i] = (byte)_memory.Read(pageBase + (ulong)i, 1);
        var reader = _fetchReader;
        reader.Reset(_fetchBuffer, pageOffset, 4096);
        var decoder = DecoderAt(Rip);
        var linearPage = linear & ~0xFFFUL;
        var count = 0;
        var length = 0;
        ulong lines = 0;
        long minOffset = 0, maxReach = 0;
        while (count < MaxBlockInstructions)
        {
            var at = reader.Position;
            decoder.Decode(out var instr);
            if (decoder.LastError == DecoderError.NoMoreBytes || at + instr.Length > 4096)
            {
                if (count > 0) break;
                return DecodeCrossPage(linear, physical);
            }
            var offset = (long)at - pageOffset;
            var reach = offset + instr.Length - 1;
            if (_bitness != 64 && Rip + (ulong)reach > _fetchLimit)
            {
                // The instruction ends beyond the CS limit (or the IP wrap): it raises #GP(0) when it is reached.
                if (count > 0) break;
                RaiseFault(ExceptionVector.GP, 0);
                return null;
            }
            lines |= DecodedBlock.LinesOf(at, at + instr.Length - 1);
            minOffset = Math.Min(minOffset, offset);
            maxReach = Math.Max(maxReach, reach);
            ref var op = ref _opScratch[count++];
            Bind(in instr, ref op);
            _codeScratch[count - 1] = instr.Code;
            length += instr.Length;
            if (FollowsBranch(in instr, ref op, linearPage, out var targetOffset))
            {
                reader.Position = targetOffset;
                decoder.IP = instr.NearBranchTarget;
                continue;
            }
            if ((op.Flags & OpFlags.EndsBlock) != 0 || reader.Position >= 4096) break;
        }
        var ops = new DecodedOp[count];
        Array.Copy(_opScratch, ops, count);
        var codes = new Iced.Intel.Code[count];
        Array.Copy(_codeScratch, codes, count);
        // Code fetched from a device (but a ROM) or from open bus is decoded afresh each time: nothing reports its changes.
        var cacheable = _memory.HoldsCacheableCode(physical);
        var block = new DecodedBlock(physical, _bitness, ops, codes, count, length)
        {
            Cacheable = cacheable,
            MaxReach = (ulong)maxReach,
            BackReach = (ulong)(-minOffset),
            Lines = lines,
        };
        if (!cacheable) return block;
        _blocks.Add(block);
        return block;
    }

    /// <summary>
    /// Whether the trace goes on at the branch target of <paramref name="instr"/>: a direct JMP or
    /// CALL, or a backward Jcc, whose target lies on the block's linear page.
    /// </summary>
    private bool FollowsBranch(in Instruction instr, ref DecodedOp op, ulong linearPage, out int targetOffset)
    {
        targetOffset = 0;
        var backwardJcc = op.Handler == Handler.Jcc && instr.NearBranchTarget < instr.IP;
        if (op.Handler is not (Handler.JmpRel or Handler.CallRel) && !backwardJcc) return false;
        var target = instr.NearBranchTarget;
        // A target that wrapped around the code size is never on the same page in the trace's sense.
        if (Math.Abs((long)target - (long)instr.IP) >= 4096) return false;
        var linearTarget = _bitness == 64 ? target : (uint)(_segCheck[(int)SegmentIndex.CS].Base + target);
        if ((linearTarget & ~0xFFFUL) != linearPage || (_bitness != 64 && target > _codeLimit)) return false;
        targetOffset = (int)(linearTarget & 0xFFF);
        op.Flags = (byte)(op.Flags & ~OpFlags.EndsBlock);
        if (backwardJcc) op.Execute = JccTakenOperations[op.Sub];
        return true;
    }

    /// <summary>
    /// An instruction that continues on the next page: its bytes come through both translations (the
    /// second may raise #PF with CR2 on that page); it is decoded alone into a reused, uncached block.
    /// </summary>
    private DecodedBlock? DecodeCrossPage(ulong linear, ulong physical)
    {
        var firstPart = (int)(4096 - (physical & 0xFFF));
        var bytes = _crossPageBytes;
        for (var i = 0; i < firstPart; i++) bytes[i] = (byte)_memory.Read(physical + (ulong)i, 1);
        var second = linear + (ulong)firstPart;
        if (_bitness != 64) second = (uint)second;
        if (!TranslateFetch(second, out var secondPhysical)) return null;
        for (var i = firstPart; i < bytes.Length; i++) bytes[i] = (byte)_memory.Read(secondPhysical + (ulong)(i - firstPart), 1);
        _fetchReader.Reset(bytes, 0, bytes.Length);
        var decoder = DecoderAt(Rip);
        decoder.Decode(out var instr);
        if (_bitness != 64 && Rip + (ulong)instr.Length - 1 > _fetchLimit)
        {
            RaiseFault(ExceptionVector.GP, 0);
            return null;
        }
        ref var op = ref _crossPageBlock.Ops[0];
        Bind(in instr, ref op);
        _crossPageBlock.Codes[0] = instr.Code;
        op.Flags |= OpFlags.EndsBlock;
        return _crossPageBlock;
    }

    private bool CheckFetchLimit(ulong offset)
    {
        ref var cs = ref _seg[(int)SegmentIndex.CS];
        if (offset > cs.Limit) return RaiseFault(ExceptionVector.GP, 0);
        return true;
    }

    private bool TranslateFetch(ulong linear, out ulong physical)
    {
        ref var e = ref _tlbFetch[SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext))
        {
            physical = e.PhysicalPage | (linear & 0xFFF);
            return true;
        }
        return Translate(linear, SoftwareTlb.Kind.Fetch, false, out physical);
    }

    private static byte Gpr(IcedRegister r)
    {
        switch (r)
        {
            case IcedRegister.AH: return 16;
            case IcedRegister.CH: return 17;
            case IcedRegister.DH: return 18;
            case IcedRegister.BH: return 19;
            case IcedRegister.None: return DecodedOp.NoRegister;
        }
        if (!r.IsGPR()) return DecodedOp.NoRegister;
        return (byte)(r.GetFullRegister() - IcedRegister.RAX);
    }

    private static byte SegIndex(IcedRegister r) => r == IcedRegister.None ? DecodedOp.NoRegister : (byte)(r - IcedRegister.ES);

    private void BindMemory(in Instruction instr, ref DecodedOp op)
    {
        op.Flags |= OpFlags.Memory;
        op.Segment = SegIndex(instr.MemorySegment);
        // 64-bit mode ignores ES/CS/SS/DS overrides: the base register decides (SS for rSP/rBP), which matters for #SS vs #GP.
        if (_bitness == 64 && op.Segment <= (byte)SegmentIndex.DS)
            op.Segment = (byte)(instr.MemoryBase is IcedRegister.RSP or IcedRegister.RBP or IcedRegister.ESP or IcedRegister.EBP ? SegmentIndex.SS : SegmentIndex.DS);
        if (instr.SegmentPrefix != IcedRegister.None) op.Flags |= OpFlags.SegmentOverride;
        var baseReg = instr.MemoryBase;
        op.AddressShift = (byte)(64 - AddressSizeOf(in instr) * 8);
        if (baseReg is IcedRegister.RIP or IcedRegister.EIP)
        {
            op.Base = DecodedOp.RipRegister;
            op.Displacement = (long)(instr.MemoryDisplacement64 - instr.NextIP);
        }
        else
        {
            op.Base = Gpr(baseReg);
            op.Displacement = (long)instr.MemoryDisplacement64;
        }
        op.IndexReg = Gpr(instr.MemoryIndex);
        op.Scale = (byte)(instr.MemoryIndexScale switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 });
    }

    /// <summary>The address size in bytes; Iced shows it through the registers or displacement size of the memory operand.</summary>
    private int AddressSizeOf(in Instruction instr)
    {
        for (var i = 0; i < instr.OpCount; i++)
        {
            switch (instr.GetOpKind(i))
            {
                case OpKind.MemorySegSI or OpKind.MemorySegDI or OpKind.MemoryESDI: return 2;
                case OpKind.MemorySegESI or OpKind.MemorySegEDI or OpKind.MemoryESEDI: return 4;
                case OpKind.MemorySegRSI or OpKind.MemorySegRDI or OpKind.MemoryESRDI: return 8;
                case OpKind.Memory:
                    if (instr.MemoryBase is IcedRegister.RIP) return 8;
                    if (instr.MemoryBase is IcedRegister.EIP) return 4;
                    if (instr.MemoryBase != IcedRegister.None) return instr.MemoryBase.GetSize();
                    if (instr.MemoryIndex != IcedRegister.None && instr.Mnemonic != Mnemonic.Xlatb) return instr.MemoryIndex.GetSize();
                    if (instr.MemoryDisplSize is 2 or 4 or 8) return instr.MemoryDisplSize;
                    break;
            }
        }
        var name = instr.Code.ToString();
        if (name.EndsWith("_CX")) return 2;
        if (name.EndsWith("_ECX")) return 4;
        if (name.EndsWith("_RCX")) return 8;
        return _bitness / 8;
    }

    private static int OperandSize(in Instruction instr, int operand)
    {
        return instr.GetOpKind(operand) switch
        {
            OpKind.Register => instr.GetOpRegister(operand).GetSize(),
            OpKind.Memory => instr.MemorySize.GetSize(),
            OpKind.Immediate8 => 1,
            OpKind.Immediate16 => 2,
            OpKind.Immediate32 => 4,
            OpKind.Immediate64 => 8,
            _ => 0,
        };
    }

    private static bool IsMem(in Instruction instr, int operand) => instr.GetOpKind(operand) == OpKind.Memory;

    private static bool IsReg(in Instruction instr, int operand) => instr.GetOpKind(operand) == OpKind.Register;

    private static bool IsImm(in Instruction instr, int operand) =>
        instr.GetOpKind(operand) is OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate64
            or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64 or OpKind.Immediate8_2nd;

    /// <summary>Sets the form of a two-operand instruction "op0 op= op1" from its operand kinds.</summary>
    private bool BindBinary(in Instruction instr, ref DecodedOp op, Handler rr, Handler rm, Handler mr, Handler ri, Handler mi)
    {
        op.Size = (byte)OperandSize(in instr, 0);
        if (IsReg(in instr, 0))
        {
            op.R = Gpr(instr.GetOpRegister(0));
            if (IsReg(in instr, 1)) { op.Handler = rr; op.Rm = Gpr(instr.GetOpRegister(1)); }
            else if (IsMem(in instr, 1)) { op.Handler = rm; BindMemory(in instr, ref op); }
            else { op.Handler = ri; op.Immediate = instr.GetImmediate(1); }
            return op.R != DecodedOp.NoRegister;
        }
        BindMemory(in instr, ref op);
        if (IsReg(in instr, 1)) { op.Handler = mr; op.R = Gpr(instr.GetOpRegister(1)); }
        else { op.Handler = mi; op.Immediate = instr.GetImmediate(1); }
        return true;
    }

    /// <summary>A one-operand register-or-memory form.</summary>
    private void BindUnary(in Instruction instr, ref DecodedOp op, Handler r, Handler m, int operand = 0)
    {
        op.Size = (byte)OperandSize(in instr, operand);
        if (IsReg(in instr, operand))
        {
            op.Handler = r;
            op.Rm = Gpr(instr.GetOpRegister(operand));
            op.R = op.Rm;
        }
        else
        {
            op.Handler = m;
            BindMemory(in instr, ref op);
        }
    }

    private static int ConditionCode(ConditionCode cc) => cc switch
    {
        Iced.Intel.ConditionCode.o => 0,
        Iced.Intel.ConditionCode.no => 1,
        Iced.Intel.ConditionCode.b => 2,
        Iced.Intel.ConditionCode.ae => 3,
        Iced.Intel.ConditionCode.e => 4,
        Iced.Intel.ConditionCode.ne => 5,
        Iced.Intel.ConditionCode.be => 6,
        Iced.Intel.ConditionCode.a => 7,
        Iced.Intel.ConditionCode.s => 8,
        Iced.Intel.ConditionCode.ns => 9,
        Iced.Intel.ConditionCode.p => 10,
        Iced.Intel.ConditionCode.np => 11,
        Iced.Intel.ConditionCode.l => 12,
        Iced.Intel.ConditionCode.ge => 13,
        Iced.Intel.ConditionCode.le => 14,
        _ => 15,
    };

    /// <summary>Turns one Iced instruction into a pre-resolved operation.</summary>
    private void Bind(in Instruction instr, ref DecodedOp op)
    {
        op = default;
        op.Length = (byte)instr.Length;
        op.R = op.Rm = op.Base = op.IndexReg = DecodedOp.NoRegister;
        op.Segment = (byte)SegmentIndex.DS;
        op.AddressShift = (byte)(64 - AddressSizeOf(in instr) * 8);
        if (instr.HasRepPrefix || instr.HasRepePrefix) op.Flags |= OpFlags.Rep;
        if (instr.HasRepnePrefix) op.Flags |= OpFlags.Repne;
        if (instr.HasLockPrefix) op.Flags |= OpFlags.Lock;
        if (instr.Code == Code.INVALID)
        {
            op.Handler = Handler.Ud;
            op.Flags |= OpFlags.EndsBlock;
        }
        else if (!BindCore(in instr, ref op))
        {
            op.Handler = IsFpuOrSimd(in instr) ? Handler.FpuSse : Handler.Ud;
            op.Sub = (byte)(IsX87(in instr) ? 1 : 0);
            op.Flags |= OpFlags.EndsBlock;
        }
        SetHandler(ref op, op.Handler);
        // A conditional branch does not end its block: when taken it leaves the block, else the block goes on.
        if (instr.FlowControl != FlowControl.Next && op.Handler is not (Handler.Jcc or Handler.Loop)) op.Flags |= OpFlags.EndsBlock;
    }

    private static void SetHandler(ref DecodedOp op, Handler handler)
    {
        op.Handler = handler;
        op.Execute = OperationFor(in op);
    }

    /// <summary>x87 instructions (CR0.EM makes them raise #NM rather than #UD).</summary>
    private static bool IsX87(in Instruction instr) =>
        instr.Mnemonic.ToString().StartsWith('F') && instr.Mnemonic is not (Mnemonic.Fxsave or Mnemonic.Fxsave64 or Mnemonic.Fxrstor or Mnemonic.Fxrstor64);

    private static bool IsFpuOrSimd(in Instruction instr)
    {
        foreach (var f in instr.Code.CpuidFeatures())
        {
            var name = f.ToString();
            if (name.StartsWith("FPU") || name.StartsWith("MMX") || name.StartsWith("SSE") || name.StartsWith("AVX")
                || name.StartsWith("FXSR") || name.StartsWith("XSAVE") || name == "_3DNOW" || name.StartsWith("AES")
                || name == "PCLMULQDQ" || name == "F16C" || name.StartsWith("FMA") || name.StartsWith("SHA")
                || name == "GFNI" || name.StartsWith("VAES") || name.StartsWith("VPCLMUL"))
                return true;
        }
        return false;
    }
}
