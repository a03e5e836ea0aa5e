using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

public sealed partial class CaseGenerator
{
    private const uint AcFlag = 0x40000;

    /// <summary>
    /// The step that enters CPL 3 at the next step: DS and ES to the ring-3 data segment, then an
    /// IRET to ring-3 code with ESP at the case stack and EFLAGS.AC set (or not); EAX is left with
    /// the address the IRET goes to. One raw step, since its target is its own end.
    /// </summary>
    private static byte[] EnterUserMode(bool alignmentCheck)
    {
        var user = (byte)(DataLayout.UserData32Selector | 3);
        var stack = BitConverter.GetBytes(ScratchLinear(DataLayout.CaseStack - DataLayout.Scratch));
        var ac = BitConverter.GetBytes(alignmentCheck ? AcFlag : 0);
        byte[] tail =
        [
            0x6A, user, 0x1F,
            0x6A, user, 0x07,
            0x6A, user,
            0x68, stack[0], stack[1], stack[2], stack[3],
            0x9C,
            0x81, 0x0C, 0x24, ac[0], ac[1], ac[2], ac[3],
            0x6A, (byte)(DataLayout.UserCode32Selector | 3),
            0x50,
            0xCF,
        ];
        // EAX = the POP's address; the IRET returns past the last byte.
        var distance = BitConverter.GetBytes((uint)(1 + 5 + tail.Length));
        return [0xE8, 0, 0, 0, 0, 0x58, 0x05, distance[0], distance[1], distance[2], distance[3], .. tail];
    }

    /// <summary>Accesses whose address is not in the instruction: PUSH and POP on a stack pointer off by 1–3, and string instructions.</summary>
    private bool ImplicitAccess(CaseDraft d, uint at)
    {
        switch (_rng.Next(4))
        {
            case 0:
                d.Add(One(a => a.lea(esp, __[esp - _rng.Next(1, 4)])));
                d.Add(One(a => a.push(ebx)));
                return true;
            case 1:
                d.Add(One(a => a.lea(esp, __[esp - _rng.Next(1, 4)])));
                d.Add(One(a => a.pop(ecx)));
                return true;
            case 2:
                if (!d.Force(6, at) || !d.Force(7, ScratchLinear(0xA0) + (uint)_rng.Next(0, 4))) return false;
                d.Add(_rng.Next(2) == 0 ? Instruction.CreateMovsw(32) : Instruction.CreateMovsd(32));
                return true;
            default:
                if (!d.Force(7, at) || !d.Force(Rcx, (ulong)_rng.Next(1, 3))) return false;
                d.Add(Instruction.CreateStosd(32, RepPrefixKind.Repe));
                return true;
        }
    }

    /// <summary>
    /// At CPL 3 with CR0.AM = 1: 2-, 4- and 8-byte accesses (CMPXCHG8B), stack and string accesses, at aligned and misaligned
    /// addresses, with EFLAGS.AC set or clear (#AC(0) only when set, SDM vol. 3, 6.15); MOV DR at
    /// CPL 3 (#GP(0)), also of DR4 under CR4.DE and with DR7.GD set; a data breakpoint hit from
    /// ring 3. The case ends in UD2, since the record is written at CPL 0.
    /// </summary>
    private bool UserModeTemplate(CaseDraft d)
    {
        var ac = _rng.Next(5) != 0;
        var kind = _rng.Next(10);
        var at = ScratchLinear(0x80 + (uint)_rng.Next(0, 8));
        string name;
        if (kind < 6)
        {
            if (_rng.Next(3) == 0)
            {
                SetBreakpoint(d, 0, at & ~3u);
                SetDr7(d, Dr7For(0, 3, 3, out _) | 1);
            }
            d.Add(Decode(EnterUserMode(ac)), raw: EnterUserMode(ac));
            var accesses = 1 + _rng.Next(2);
            for (var k = 0; k < accesses; k++)
            {
                var size = new[] { 2, 4, 8, 0 }[_rng.Next(4)];
                if (size == 8) d.Add(One(a => a.cmpxchg8b(__qword_ptr[at])));
                else if (size == 0)
                {
                    if (!ImplicitAccess(d, at)) return false;
                    break;
                }
                else d.Add(DataAccess(_rng.Next(5), size, at));
                at = ScratchLinear(0x80 + (uint)_rng.Next(0, 8));
            }
            name = "user #ac";
        }
        else
        {
            var de = kind == 8;
            var gd = kind == 9;
            if (de)
            {
                d.Add(One(a => a.mov(eax, cr4)));
                d.Add(One(a => a.or(eax, 8)));
                d.Add(One(a => a.mov(cr4, eax)));
            }
            if (gd) SetDr7(d, GdBit);
            d.Add(Decode(EnterUserMode(ac)), raw: EnterUserMode(ac));
            d.Add(kind switch
            {
                6 => One(a => a.mov(ecx, dr7)),
                7 => One(a => a.mov(dr0, ebx)),
                8 => One(a => a.mov(ecx, dr4)),
                _ => One(a => a.mov(ecx, dr6)),
            });
            name = de ? "user mov dr4 de" : gd ? "user mov dr gd" : "user mov dr";
        }
        d.Add(Decode([0x0F, 0x0B]), raw: [0x0F, 0x0B]);
        d.Kind = name + (ac ? "" : " ac=0");
        return true;
    }
}
