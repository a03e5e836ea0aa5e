using Iced.Intel;

namespace Sim.Differential.Tests;

public sealed partial class CaseGenerator
{
    /// <summary>The 16-bit (B=0) and 32-bit (B=1) stack selectors of a mode; both map the data window alike for ESP in <see cref="StackWindowBase"/> + SP.</summary>
    private (ushort Small, ushort Big) StackSelectors =>
        _mode == GuestMode.Protected32 ? (DataLayout.Data16Selector, DataLayout.Data32Selector) : (DataLayout.Data16Selector, TestSegments.Stack32Window);

    /// <summary>ESP's upper half for which flat and windowed SS agree: the window's base in 32-bit code, 0 in 16-bit code.</summary>
    private uint StackWindowBase => _mode == GuestMode.Protected32 ? DataLayout.DataBase : 0;

    /// <summary>
    /// Segment loads that change the stack's size (SDM vol. 2, POP, MOV, LSS): SS of the mode's size
    /// or the other, ESP where SP wraps, then POP SS (either operand size), MOV SS or LSS of the other
    /// size, and a PUSH or POP on the new stack; in 32-bit code also LFS and a read through FS.
    /// The pop must step the stack pointer with the size in force before the load.
    /// </summary>
    private bool StackSegmentTemplate(CaseDraft d)
    {
        if (_mode is not (GuestMode.Protected32 or GuestMode.Protected16)) return EnterLeaveTemplate(d);
        d.AllowStackPointerWrite = true;
        var (small, big) = StackSelectors;
        var fromSmall = _rng.Next(2) == 0;
        var modeSmall = _mode == GuestMode.Protected16;
        var target = fromSmall ? big : small;
        // Multiples of 4, so that no access crosses a 16-bit stack's limit: QEMU's TCG does not check it (the Bochs-only cases do).
        ushort[] wraps = [0xFFFC, 0xFFF8, 0xFFF0];
        var sp = _rng.Next(4) == 0 ? (ushort)(0x1080 + _rng.Next(0, 0x20) * 4) : wraps[_rng.Next(wraps.Length)];
        var esp = StackWindowBase + sp;
        if (fromSmall != modeSmall && !LoadSegmentStep(d, Register.SS, fromSmall ? small : big)) return false;
        d.Add(Instruction.Create(Code.Mov_r32_imm32, Register.ESP, esp));
        var kind = _rng.Next(_mode == GuestMode.Protected32 ? 5 : 4);
        var popWidth = 4;
        switch (kind)
        {
            case 0 or 1:
            {
                var o16 = _rng.Next(2) == 0;
                if (o16) popWidth = 2;
                // A dword override stays inside the window's limit, so an SP of 2 mod 4 finds the selector in its upper half.
                d.Overrides.Add(((sp & ~3u) - DataLayout.Scratch, (uint)target << (8 * (sp & 3))));
                d.Add(Instruction.Create(o16 ? Code.Popw_SS : Code.Popd_SS, Register.SS));
                d.Kind = $"pop ss o{(o16 ? 16 : 32)} {(fromSmall ? "16->32" : "32->16")}";
                break;
            }
            case 2:
                if (!LoadSegmentStep(d, Register.SS, target)) return false;
                d.Kind = $"mov ss {(fromSmall ? "16->32" : "32->16")}";
                break;
            case 3:
            {
                var o16 = _rng.Next(2) == 0;
                var pointer = DataLayout.Scratch + 0x40;
                var newSp = StackWindowBase + wraps[_rng.Next(wraps.Length)];
                d.Overrides.Add((0x40, o16 ? (newSp & 0xFFFF) | ((uint)target << 16) : newSp));
                if (!o16) d.Overrides.Add((0x44, target));
                var memory = new MemoryOperand(Register.None, (long)DataLayout.Address(_mode, pointer), _bitness == 16 ? 2 : 4);
                d.Add(Instruction.Create(o16 ? Code.Lss_r16_m1616 : Code.Lss_r32_m1632, o16 ? Register.SP : Register.ESP, memory));
                d.Kind = $"lss o{(o16 ? 16 : 32)} {(fromSmall ? "16->32" : "32->16")}";
                break;
            }
            default:
                return FarPointerToFsTemplate(d);
        }
        // In 16-bit code a push after SP wrapped to 0 under a 32-bit SS leaves the window's limit, and so would the exception's frame.
        var pushAllowed = _mode == GuestMode.Protected32 || target == small;
        switch (_rng.Next(3))
        {
            case 0 when pushAllowed:
            {
                var o16 = _rng.Next(2) == 0;
                d.Add(Instruction.Create(o16 ? Code.Push_r16 : Code.Push_r32, RandomRegister(o16 ? 2 : 4)));
                break;
            }
            case 1:
            {
                var r = FreeRegister(d);
                if (r < 0) return false;
                // As wide as the POP SS, so that SP stays aligned to it and the read stays in the window.
                d.Add(popWidth == 2 ? Instruction.Create(Code.Pop_r16, Register.AX + r) : Instruction.Create(Code.Pop_r32, Register.EAX + r));
                break;
            }
        }
        return true;
    }

    /// <summary>MOV Sreg, r32 from a free register holding <paramref name="selector"/>.</summary>
    private bool LoadSegmentStep(CaseDraft d, Register segment, ushort selector)
    {
        var carrier = FreeRegister(d);
        if (carrier < 0 || !d.Force(carrier, selector)) return false;
        d.Reserved.Add(carrier);
        d.Add(Instruction.Create(Code.Mov_Sreg_r32m16, segment, Register.EAX + carrier));
        return true;
    }

    /// <summary>LFS of the data window (32-bit code, where no other case uses FS), then a read of the scratch area through FS.</summary>
    private bool FarPointerToFsTemplate(CaseDraft d)
    {
        d.Kind = "lfs";
        var o16 = _rng.Next(3) == 0;
        var pointer = DataLayout.Scratch + 0x40;
        var offset = DataLayout.Scratch + 0x80 + (uint)_rng.Next(0, 0x40) * 4;
        d.Overrides.Add((0x40, o16 ? offset | ((uint)DataLayout.Data16Selector << 16) : offset));
        if (!o16) d.Overrides.Add((0x44, DataLayout.Data16Selector));
        var r = FreeRegister(d);
        if (r < 0 || !d.Force(r, 0)) return false;
        d.Reserved.Add(r);
        var memory = new MemoryOperand(Register.None, (long)DataLayout.Address(_mode, pointer), 4);
        d.Add(Instruction.Create(o16 ? Code.Lfs_r16_m1616 : Code.Lfs_r32_m1632, (o16 ? Register.AX : Register.EAX) + r, memory));
        d.Add(Instruction.Create(Code.Mov_r32_rm32, Register.EAX + (r == 0 ? 1 : 0), new MemoryOperand(Register.EAX + r, Register.None, 1, 0, 0, false, Register.FS)));
        return true;
    }
}
