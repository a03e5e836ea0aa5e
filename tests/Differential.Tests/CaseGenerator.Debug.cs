using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

public sealed partial class CaseGenerator
{
    private const uint RfFlag = 0x10000, TfFlag = 0x100, GdBit = 0x2000;

    /// <summary>
    /// Debug-register cases for 32-bit protected mode, in a guest built with <see cref="DebugOptions"/>:
    /// data breakpoints (write and read/write, every length, aligned and overlapping accesses, L/G
    /// enables or none), instruction breakpoints (resumed with RF), I/O breakpoints under CR4.DE,
    /// general detect, single step, the MOV SS / POP SS hold, DR6 and DR7 reads and writes, and at
    /// CPL 3 alignment checks and MOV DR (<see cref="UserModeTemplate"/>). The
    /// guest's #DB handler logs DR6, DR7, EIP, RF and TF of each #DB (<see cref="GuestBuilder.DebugLog"/>)
    /// and resumes; EBP and EDX hold the last entry, so cases use the other registers only.
    /// </summary>
    public TestCase GenerateDebug(int index)
    {
        if (_mode != GuestMode.Protected32) throw new InvalidOperationException("debug cases run in 32-bit protected mode");
        for (var attempt = 0; ; attempt++)
        {
            var draft = new CaseDraft { Kind = "debug", Plan = NewPlan(), AllowStackPointerWrite = true };
            for (var o = GuestBuilder.DebugLog; o < DataLayout.ScratchSize; o += 4) draft.Overrides.Add((o, 0));
            // The handler's outputs start at 0, so a case that took no #DB shows 0 there.
            draft.Force(2, 0);
            draft.Force(5, 0);
            var ok = _rng.Next(100) switch
            {
                < 28 => DataBreakpointTemplate(draft),
                < 40 => InstructionBreakpointTemplate(draft),
                < 48 => IoBreakpointTemplate(draft),
                < 56 => GeneralDetectTemplate(draft),
                < 68 => SingleStepTemplate(draft),
                < 90 => UserModeTemplate(draft),
                _ => DebugRegisterAccessTemplate(draft),
            };
            if (!ok || draft.Steps.Count == 0 || !CheckWrites(draft)) continue;
            var c = Finish(index, draft);
            if (c != null) return c;
            if (attempt > 10000) throw new InvalidOperationException("generator cannot produce a valid case");
        }
    }

    /// <summary>The guest options the debug cases need.</summary>
    public static GuestOptions DebugOptions => new(ExecuteOnlyCode: false, ReloadSegments: false, DebugHandler: true, UserMode: true);

    private static uint ScratchLinear(uint offset) => DataLayout.DataBase + DataLayout.Scratch + offset;

    private static readonly AssemblerRegisterDR[] Breakpoint = [dr0, dr1, dr2, dr3];

    /// <summary>DR7 enabling breakpoint <paramref name="n"/> by L, G, both or neither, with its R/W and LEN fields.</summary>
    private uint Dr7For(int n, int type, int len, out string enable)
    {
        var e = _rng.Next(8) switch { 0 => 0u, 1 or 2 => 1u, 3 or 4 => 2u, _ => 3u };
        enable = e switch { 0 => "off", 1 => "L", 2 => "G", _ => "LG" };
        return (e << (2 * n)) | ((uint)type << (16 + 4 * n)) | ((uint)len << (18 + 4 * n));
    }

    private void SetBreakpoint(CaseDraft d, int n, uint address)
    {
        d.Add(One(a => a.mov(eax, address)));
        d.Add(One(a => a.mov(Breakpoint[n], eax)));
    }

    private void SetDr7(CaseDraft d, uint value)
    {
        // LE and GE (bits 8 and 9) now and then: the SDM recommends them, they change nothing since P6.
        if (_rng.Next(4) == 0) value |= (uint)_rng.Next(1, 4) << 8;
        d.Add(One(a => a.mov(eax, value)));
        d.Add(One(a => a.mov(dr7, eax)));
    }

    /// <summary>
    /// One or two data breakpoints near scratch+60h, then 1–3 accesses (writes, reads,
    /// read-modify-writes, REP STOSD) that hit, straddle or miss them.
    /// </summary>
    private bool DataBreakpointTemplate(CaseDraft d)
    {
        if (_rng.Next(8) == 0) return DeliveryPushTemplate(d);
        var count = _rng.Next(4) == 0 ? 2 : 1;
        uint dr7Value = 0;
        var used = new HashSet<int>();
        var centre = 0x60u + (uint)_rng.Next(0, 0x20);
        for (var k = 0; k < count; k++)
        {
            int n;
            do n = _rng.Next(4); while (!used.Add(n));
            var type = _rng.Next(2) == 0 ? 1 : 3;
            var len = _rng.Next(4);
            // Unaligned addresses too: the breakpoint covers its address aligned down to LEN.
            var address = ScratchLinear(centre + (uint)_rng.Next(-8, 9));
            SetBreakpoint(d, n, address);
            dr7Value |= Dr7For(n, type, len, out _);
        }
        SetDr7(d, dr7Value);
        var accesses = 1 + _rng.Next(3);
        for (var k = 0; k < accesses; k++)
        {
            var at = ScratchLinear(centre + (uint)_rng.Next(-12, 12));
            var size = new[] { 1, 2, 4 }[_rng.Next(3)];
            var form = _rng.Next(6);
            if (form == 5)
            {
                if (!d.Force(7, at & ~3u) || !d.Force(Rcx, (ulong)_rng.Next(1, 4))) return false;
                d.Reserved.Add(7);
                d.Reserved.Add(Rcx);
                d.Add(Instruction.CreateStosd(32, RepPrefixKind.Repe));
                break;
            }
            d.Add(DataAccess(form, size, at));
        }
        d.Kind = $"debug data x{count}";
        return true;
    }

    /// <summary>
    /// A write breakpoint on the case stack's top, where a PUSH writes or where delivering a #UD
    /// pushes its frame (at CPL 0 on the same stack): the delivery's pushes are accesses too.
    /// </summary>
    private bool DeliveryPushTemplate(CaseDraft d)
    {
        var slot = 4u + 4u * (uint)_rng.Next(3);
        SetBreakpoint(d, 1, ScratchLinear(DataLayout.CaseStack - DataLayout.Scratch - slot));
        SetDr7(d, Dr7For(1, _rng.Next(2) == 0 ? 1 : 3, 3, out _) | 4);
        var push = _rng.Next(3) == 0;
        if (push) d.Add(One(a => a.push(ebx)));
        else d.Add(Decode([0x0F, 0x0B]), raw: [0x0F, 0x0B]);
        d.Kind = push ? "debug data push" : "debug data delivery";
        return true;
    }

    /// <summary>A write, read or read-modify-write of <paramref name="size"/> bytes at a linear address, through EBX or ECX.</summary>
    private Instruction DataAccess(int form, int size, uint at) => (form, size) switch
    {
        (0 or 1, 1) => One(a => a.mov(__byte_ptr[at], bl)),
        (0 or 1, 2) => One(a => a.mov(__word_ptr[at], bx)),
        (0 or 1, _) => One(a => a.mov(__dword_ptr[at], ebx)),
        (2, 1) => One(a => a.mov(cl, __byte_ptr[at])),
        (2, 2) => One(a => a.mov(cx, __word_ptr[at])),
        (2, _) => One(a => a.mov(ecx, __dword_ptr[at])),
        (3, 1) => One(a => a.add(__byte_ptr[at], bl)),
        (3, 2) => One(a => a.add(__word_ptr[at], bx)),
        (3, _) => One(a => a.add(__dword_ptr[at], ebx)),
        (_, 1) => One(a => a.cmp(__byte_ptr[at], bl)),
        (_, 2) => One(a => a.cmp(__word_ptr[at], bx)),
        _ => One(a => a.cmp(__dword_ptr[at], ebx)),
    };

    /// <summary>
    /// An instruction breakpoint on a later step, whose address the case computes from CALL/POP; the
    /// handler resumes with RF set so the step runs once. Sometimes the step follows MOV SS (held),
    /// faults (#UD after the #DB), or a data breakpoint traps just before it.
    /// </summary>
    private bool InstructionBreakpointTemplate(CaseDraft d)
    {
        var n = _rng.Next(4);
        var head = new List<(Instruction Ins, byte[]? Raw)>
        {
            (Decode([0xE8, 0, 0, 0, 0]), [0xE8, 0, 0, 0, 0]),
            (One(a => a.pop(eax)), null),
        };
        var addIndex = head.Count;
        head.Add((Instruction.Create(Code.Add_EAX_imm32, Register.EAX, 0), null));
        head.Add((One(a => a.mov(Breakpoint[n], eax)), null));
        var dr7Value = Dr7For(n, 0, 0, out var enable);
        var variant = _rng.Next(5);
        var dataBreakpoint = variant == 3;
        var at = ScratchLinear(0x80 + (uint)_rng.Next(0, 0x10));
        if (dataBreakpoint)
        {
            var m = (n + 1) % 4;
            head.Add((One(a => a.mov(eax, at)), null));
            head.Add((One(a => a.mov(Breakpoint[m], eax)), null));
            dr7Value |= (3u << (2 * m)) | (1u << (16 + 4 * m)) | (3u << (18 + 4 * m));
        }
        head.Add((One(a => a.mov(eax, dr7Value)), null));
        head.Add((One(a => a.mov(dr7, eax)), null));
        if (_rng.Next(2) == 0) head.Add((One(a => a.mov(ecx, 1)), null));
        string kind;
        switch (variant)
        {
            case 1:
                if (!d.Force(3, DataLayout.Data32Selector)) return false;
                head.Add((One(a => a.mov(ss, bx)), null));
                kind = "after mov ss";
                break;
            case 3:
                head.Add((One(a => a.mov(__dword_ptr[at], ebx)), null));
                kind = "after data trap";
                break;
            default:
                kind = "";
                break;
        }
        var target = head.Count;
        head.Add(variant == 2 ? (Decode([0x0F, 0x0B]), [0x0F, 0x0B]) : (One(a => a.add(ecx, ebx)), null));
        head.Add((One(a => a.inc(ecx)), null));
        // EAX after POP is the address of the POP; the breakpoint is at the target step.
        uint distance = 0;
        for (var k = 1; k < target; k++) distance += (uint)Length(head[k].Ins, head[k].Raw);
        head[addIndex] = (Instruction.Create(Code.Add_EAX_imm32, Register.EAX, distance), null);
        foreach (var (ins, raw) in head) d.Add(ins, raw: raw);
        d.Kind = $"debug instruction {(enable == "off" ? "off" : "on")}{(variant == 2 ? " ud2" : "")} {kind}".TrimEnd();
        return true;
    }

    private Instruction Decode(byte[] bytes)
    {
        var decoder = Decoder.Create(_bitness, bytes);
        decoder.Decode(out var ins);
        return ins;
    }

    private int Length(in Instruction ins, byte[]? raw)
    {
        if (raw != null) return raw.Length;
        if (!_encoder.TryEncode(ins, 0x1000, out var length, out _)) throw new InvalidOperationException($"cannot encode {ins}");
        return (int)length;
    }

    /// <summary>I/O breakpoints with CR4.DE = 1 on ports 80h–87h, OUT/IN of every width and OUTS; DR4 under DE is #UD.</summary>
    private bool IoBreakpointTemplate(CaseDraft d)
    {
        var de = _rng.Next(5) != 0;
        if (de)
        {
            d.Add(One(a => a.mov(eax, cr4)));
            d.Add(One(a => a.or(eax, 8)));
            d.Add(One(a => a.mov(cr4, eax)));
        }
        var n = _rng.Next(4);
        var len = new[] { 0, 1, 3 }[_rng.Next(3)];
        var port = 0x80u + (uint)_rng.Next(0, 8);
        SetBreakpoint(d, n, port);
        SetDr7(d, Dr7For(n, 2, len, out _));
        var ios = 1 + _rng.Next(2);
        for (var k = 0; k < ios; k++)
        {
            var p = (byte)(0x80 + _rng.Next(0, 8));
            d.Add(_rng.Next(6) switch
            {
                0 => One(a => a.@out(p, al)),
                1 => One(a => a.@out(p, ax)),
                2 => One(a => a.@out(p, eax)),
                3 => One(a => a.@in(al, p)),
                4 => One(a => a.@in(ax, p)),
                _ => One(a => a.@in(eax, p)),
            });
            // What an unclaimed port reads is the platform's, not the CPU's.
            d.Add(One(a => a.mov(eax, 0)));
        }
        // OUTS too, not INS, which would store what the platform reads; not REP OUTS, since the handler writes EDX between iterations.
        if (_rng.Next(3) == 0)
        {
            if (!d.Force(6, ScratchLinear(0x80))) return false;
            d.Reserved.Add(6);
            var outsPort = (ushort)(0x80 + _rng.Next(0, 8));
            d.Add(One(a => a.mov(dx, outsPort)));
            d.Add(_rng.Next(2) == 0 ? Instruction.CreateOutsb(32) : Instruction.CreateOutsw(32));
        }
        if (_rng.Next(4) == 0) d.Add(One(a => a.mov(ecx, dr4)));
        d.Kind = $"debug io{(de ? "" : " de=0")}";
        return true;
    }

    /// <summary>DR7.GD set (with or without a breakpoint), then a MOV from or to a debug register: #DB with BD, GD cleared, the MOV runs on resume.</summary>
    private bool GeneralDetectTemplate(CaseDraft d)
    {
        var n = _rng.Next(4);
        uint dr7Value = GdBit;
        if (_rng.Next(2) == 0)
        {
            SetBreakpoint(d, n, ScratchLinear(0x80));
            dr7Value |= Dr7For(n, 1, 3, out _);
        }
        SetDr7(d, dr7Value);
        if (_rng.Next(2) == 0) d.Add(One(a => a.add(ecx, ebx)));
        var access = _rng.Next(5);
        d.Add(access switch
        {
            0 => One(a => a.mov(ecx, dr6)),
            1 => One(a => a.mov(ecx, dr7)),
            2 => One(a => a.mov(dr1, ebx)),
            3 => One(a => a.mov(ecx, Breakpoint[n])),
            _ => One(a => a.mov(dr7, ebx)),
        });
        if (access == 4 && !d.Force(3, 0)) return false;
        if (_rng.Next(2) == 0) d.Add(One(a => a.mov(ebx, dr7)));
        d.Kind = "debug gd";
        return true;
    }

    /// <summary>TF set by POPF, 1–2 steps (MOV SS and POP SS among them, which hold the trap for one instruction), TF cleared again.</summary>
    private bool SingleStepTemplate(CaseDraft d)
    {
        d.Add(One(a => a.pushfd()));
        d.Add(One(a => a.or(__dword_ptr[esp], (int)TfFlag)));
        d.Add(One(a => a.popfd()));
        var kind = _rng.Next(5);
        switch (kind)
        {
            case 0:
                d.Add(One(a => a.add(ecx, ebx)));
                break;
            case 1:
                if (!d.Force(3, DataLayout.Data32Selector)) return false;
                d.Add(One(a => a.mov(ss, bx)));
                d.Add(One(a => a.mov(ecx, 1)));
                break;
            case 2:
                if (!d.Force(3, DataLayout.Data32Selector)) return false;
                d.Add(One(a => a.push(ebx)));
                d.Add(One(a => a.pop(ss)));
                d.Add(One(a => a.mov(ecx, 2)));
                break;
            case 3:
            {
                // A data breakpoint on MOV SS's own operand: its trap too waits for the next instruction.
                var at = ScratchLinear(0x90);
                d.Overrides.Add((0x90, DataLayout.Data32Selector));
                SetBreakpoint(d, 0, at);
                SetDr7(d, Dr7For(0, 3, 1, out _) | 1);
                d.Add(One(a => a.mov(ss, __word_ptr[at])));
                d.Add(One(a => a.mov(ecx, 3)));
                break;
            }
            default:
                if (!d.Force(3, DataLayout.Data32Selector)) return false;
                d.Add(One(a => a.mov(ss, bx)));
                d.Add(Decode([0x0F, 0x0B]), raw: [0x0F, 0x0B]);
                break;
        }
        d.Add(One(a => a.pushfd()));
        d.Add(One(a => a.and(__dword_ptr[esp], ~(int)TfFlag)));
        d.Add(One(a => a.popfd()));
        d.Kind = "debug tf " + kind switch { 0 => "alu", 1 => "mov ss", 2 => "pop ss", 3 => "mov ss data", _ => "mov ss ud2" };
        return true;
    }

    /// <summary>Writes of random values to DR6 and DR7 (reserved bits included) read back, and MOV SS without TF holding a data breakpoint's trap.</summary>
    private bool DebugRegisterAccessTemplate(CaseDraft d)
    {
        var which = _rng.Next(3);
        // Only the reserved bits of DR7 at random: R/W and LEN values of enabled breakpoints are covered above.
        var value = which == 0 ? (uint)RandomValue(32) : 0x400u | ((uint)_rng.Next(16) << 11 & 0xD800) | (uint)RandomValue(32) & 0xFFFF0000u;
        d.Add(One(a => a.mov(ebx, value)));
        if (which == 0)
        {
            d.Add(One(a => a.mov(dr6, ebx)));
            d.Add(One(a => a.mov(ecx, dr6)));
        }
        else
        {
            d.Add(One(a => a.mov(dr7, ebx)));
            d.Add(One(a => a.mov(ecx, dr7)));
            d.Add(One(a => a.xor(eax, eax)));
            d.Add(One(a => a.mov(dr7, eax)));
        }
        d.Kind = which == 0 ? "debug dr6 write" : "debug dr7 write";
        return true;
    }
}
