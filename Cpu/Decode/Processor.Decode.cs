using Iced.Intel;
using IcedRegister = Iced.Intel.Register;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

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

    /// <summary>The block a page-crossing instruction fetched from a device decodes into; it is executed at once and never cached.</summary>
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
        var selfLoop = false;
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
                if (count == 1 && op.Handler == Handler.JmpRel && instr.NearBranchTarget == instr.IP) selfLoop = true;
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
            SelfLoop = selfLoop,
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
    /// second may raise #PF with CR2 on that page); it is decoded alone into a block of its own, cached
    /// with the second page's physical address, which a lookup checks against the current translation.
    /// </summary>
    private DecodedBlock? DecodeCrossPage(ulong linear, ulong physical)
    {
        var firstPart = (int)(4096 - (physical & 0xFFF));
        var bytes = _crossPageBytes;
        for (var i = 0; i < firstPart; i++) bytes[i] = (byte)_memory.Read(physical + (ulong)i, 1);
        if (!TranslateNextCodePage(linear, out var secondPhysical)) return null;
        for (var i = firstPart; i < bytes.Length; i++) bytes[i] = (byte)_memory.Read(secondPhysical + (ulong)(i - firstPart), 1);
        _fetchReader.Reset(bytes, 0, bytes.Length);
        var decoder = DecoderAt(Rip);
        decoder.Decode(out var instr);
        if (_bitness != 64 && Rip + (ulong)instr.Length - 1 > _fetchLimit)
        {
            RaiseFault(ExceptionVector.GP, 0);
            return null;
        }
        var cacheable = _memory.HoldsCacheableCode(physical) && _memory.HoldsCacheableCode(secondPhysical);
        var block = cacheable
            ? new DecodedBlock(physical, _bitness, new DecodedOp[1], new Iced.Intel.Code[1], 1, instr.Length)
            {
                MaxReach = (ulong)instr.Length - 1,
                Lines = DecodedBlock.LinesOf((int)(physical & 0xFFF), 4095),
                SecondPage = secondPhysical >> 12,
                SecondLines = DecodedBlock.LinesOf(0, instr.Length - firstPart - 1),
            }
            : _crossPageBlock;
        ref var op = ref block.Ops[0];
        Bind(in instr, ref op);
        block.Codes[0] = instr.Code;
        op.Flags |= OpFlags.EndsBlock;
        if (cacheable) _blocks.Add(block);
        return block;
    }

    /// <summary>Translates the linear page after the one holding <paramref name="linear"/> (wrapping at 4 GiB outside 64-bit mode) for a fetch; false with #PF pending.</summary>
    private bool TranslateNextCodePage(ulong linear, out ulong physical)
    {
        var next = (linear | 0xFFF) + 1;
        if (_bitness != 64) next = (uint)next;
        return TranslateFetch(next, out physical);
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
}
