using Iced.Intel;

namespace Sim.Differential.Tests;

public sealed partial class CaseGenerator
{
    /// <summary>
    /// Cases QEMU 7.2 cannot judge, for Bochs: segment-limit and access-rights violations (32-bit
    /// protected mode, in a guest built with <see cref="BochsOnlyOptions"/>), non-canonical
    /// SS-relative addresses and read-modify-write page faults (64-bit mode), and
    /// CMPXCHG8B/CMPXCHG16B on equal and unequal operands.
    /// </summary>
    public TestCase GenerateBochsOnly(int index)
    {
        for (var attempt = 0; ; attempt++)
        {
            var draft = new CaseDraft { Kind = "bochs", Plan = NewPlan() };
            var ok = _mode switch
            {
                GuestMode.Protected32 => _rng.Next(100) < 80 ? SegmentTemplate(draft) : CompareExchangeTemplate(draft),
                GuestMode.Long64 => _rng.Next(3) switch
                {
                    0 => StackNonCanonicalTemplate(draft),
                    1 => ReadModifyWritePageFaultTemplate(draft),
                    _ => CompareExchangeTemplate(draft),
                },
                _ => CompareExchangeTemplate(draft),
            };
            if (!ok || draft.Steps.Count == 0 || !CheckWrites(draft)) continue;
            var c = Finish(index, draft);
            if (c != null) return c;
            if (attempt > 10000) throw new InvalidOperationException("generator cannot produce a valid case");
        }
    }

    /// <summary>The guest options the Bochs-only cases of a mode need.</summary>
    public static GuestOptions BochsOnlyOptions(GuestMode mode) =>
        mode == GuestMode.Protected32 ? new GuestOptions(ExecuteOnlyCode: true, ReloadSegments: true) : default;

    /// <summary>A generic instruction with a memory operand that the CPU really accesses, from the pool.</summary>
    private bool TryMemoryInstruction(CaseDraft d, Func<Mnemonic, bool> accept, out Instruction ins, out int operand)
    {
        ins = default;
        operand = -1;
        for (var tries = 0; tries < 50; tries++)
        {
            var m = PickMnemonic();
            if (m is Mnemonic.Lea || !accept(m)) continue;
            if (!TryGeneric(d, m, allowMemory: true, out ins)) continue;
            if (IsBitTestWithRegisterOffset(ins)) continue;
            for (var i = 0; i < ins.OpCount; i++)
                if (ins.GetOpKind(i) == OpKind.Memory) operand = i;
            if (operand >= 0) return true;
        }
        return false;
    }

    private static bool IsStackMnemonic(Mnemonic m) => StackMnemonics.Contains(m);

    /// <summary>
    /// Loads FS or SS with one of <see cref="TestSegments"/> (or uses CS, execute-only in these guests)
    /// and accesses memory through it at an offset near a limit, inside it, or far outside it.
    /// </summary>
    private bool SegmentTemplate(CaseDraft d)
    {
        var scenario = _rng.Next(8);
        if (scenario == 7) return SegmentLoadTemplate(d);
        if (!TryMemoryInstruction(d, m => !IsStackMnemonic(m) && m != Mnemonic.Bound, out var ins, out var operand)) return false;
        var size = (uint)Math.Max(1, ins.MemorySize.GetSize());
        uint Near(uint edge) => edge + (uint)_rng.Next(-3, 4);
        uint Inside() => (uint)_rng.Next(0x40, 0x1C0);
        uint InsideExpandDown() => (uint)_rng.Next((int)TestSegments.ExpandDownLimit + 1, 0x1C0);
        var (selector, segment, offset, kind) = scenario switch
        {
            0 => (TestSegments.Small, Register.FS, _rng.Next(4) switch
            {
                0 => Inside(),
                1 => (uint)_rng.Next(0x200, 0x10000),
                _ => Near(TestSegments.ScratchLimit + 1 - size),
            }, "limit"),
            1 => (TestSegments.ReadOnly, Register.FS, Inside(), "read-only"),
            2 => (TestSegments.ExpandDown16, Register.FS, _rng.Next(4) switch
            {
                0 => InsideExpandDown(),
                1 => 0x10000 - size + (uint)_rng.Next(1, (int)Math.Min(size, 3) + 1),
                _ => Near(TestSegments.ExpandDownLimit + 1),
            }, "expand-down"),
            3 => (TestSegments.ExpandDown32, Register.FS, _rng.Next(3) == 0 ? InsideExpandDown() : Near(TestSegments.ExpandDownLimit + 1), "expand-down B=1"),
            4 => (TestSegments.StackSmall, Register.SS, Near(TestSegments.StackSmallLimit + 1 - size), "SS limit"),
            5 => (TestSegments.StackExpandDown, Register.SS, Near(TestSegments.StackExpandDownLimit + 1), "SS expand-down"),
            _ => ((ushort)0, Register.CS, (uint)(DataLayout.DataBase + DataLayout.Scratch) + Inside(), "execute-only CS"),
        };
        // Offsets of the FS segments are scratch offsets; the SS segments and CS are based at 0.
        var scratchBase = segment == Register.FS ? 0u : DataLayout.DataBase + DataLayout.Scratch;
        var target = offset - scratchBase;
        var inScratch = target is >= 4 and <= DataLayout.ScratchSize - 16;
        var plan = SegmentPlan(segment, offset, target, inScratch);
        if (plan == null) return false;
        d.Kind = "segment " + kind;
        d.Plan = plan;
        d.PlanUsed = true;
        plan.Apply(ref ins, operand);
        if (!Encodable(ins)) return false;
        if (segment != Register.CS)
        {
            var carrier = FreeRegister(d);
            if (carrier < 0 || !d.Force(carrier, selector)) return false;
            d.Reserved.Add(carrier);
            d.Add(Instruction.Create(Code.Mov_Sreg_r32m16, segment, Register.EAX + carrier));
        }
        d.Add(ins);
        return true;
    }

    /// <summary>A plan whose effective address is <paramref name="offset"/>; SS-relative plans may use EBP or ESP as the base, the others a segment override.</summary>
    private MemoryPlan? SegmentPlan(Register segment, uint offset, uint target, bool inScratch)
    {
        if (segment == Register.SS && _rng.Next(3) == 0)
        {
            // EBP as base selects SS without a prefix; ESP as base too (its value is the case stack).
            var useEsp = _rng.Next(2) == 0;
            var baseValue = useEsp ? DataLayout.Address(_mode, DataLayout.CaseStack) : (uint)_rng.Next(0, 0x1000) + offset - 0x800;
            return new MemoryPlan
            {
                AddressSize = 32, InScratch = inScratch, Target = target,
                Base = useEsp ? Register.ESP : Register.EBP, BaseValue = baseValue,
                Displacement = (int)(offset - baseValue), Segment = Register.None,
            };
        }
        // PlanFor adds the data window's base to the offset; these segments want the offset itself.
        return PlanFor(32, target, offset - DataLayout.DataBase, segment, inScratch);
    }

    private int FreeRegister(CaseDraft d)
    {
        var used = new HashSet<int>(d.Reserved) { Rsp };
        if (d.Plan.Base != Register.None) used.Add(FullIndex(d.Plan.Base));
        if (d.Plan.Index != Register.None) used.Add(FullIndex(d.Plan.Index));
        var free = Enumerable.Range(0, RegisterCount).Where(r => !used.Contains(r) && !d.Forced.ContainsKey(r)).ToArray();
        return free.Length == 0 ? -1 : free[_rng.Next(free.Length)];
    }

    /// <summary>MOV to DS/ES/FS/GS/SS of selectors the SDM rejects: an execute-only code segment (#GP(sel)), a read-only segment into SS (#GP(sel)), null into SS (#GP(0)), past the GDT limit (#GP(sel)).</summary>
    private bool SegmentLoadTemplate(CaseDraft d)
    {
        d.Kind = "segment load";
        var (segment, selector) = _rng.Next(6) switch
        {
            0 => (Register.FS, DataLayout.Code32Selector),
            1 => (Register.SS, TestSegments.ReadOnly),
            2 => (Register.SS, (ushort)0),
            3 => (Register.FS, (ushort)(TestSegments.GdtLimit + 1)),
            4 => (Register.SS, DataLayout.Code32Selector),
            _ => (Register.FS, TestSegments.ReadOnly),
        };
        var carrier = FreeRegister(d);
        if (carrier < 0 || !d.Force(carrier, selector)) return false;
        d.Add(Instruction.Create(Code.Mov_Sreg_r32m16, segment, Register.EAX + carrier));
        return true;
    }

    /// <summary>Non-canonical addresses relative to SS: rBP or rSP as the base, or an SS override: #SS(0); a DS override on rBP: #GP(0).</summary>
    private bool StackNonCanonicalTemplate(CaseDraft d)
    {
        if (!TryMemoryInstruction(d, m => !IsStackMnemonic(m), out var ins, out var operand)) return false;
        var address = (_rng.Next(2) == 0 ? 0x0000800000000000UL : 0xFFFF000000000000UL) + (ulong)_rng.Next(0, 0x10000) * 0x1000 + (ulong)_rng.Next(0, 16);
        var form = _rng.Next(4);
        var disp = _rng.Next(-0x80, 0x80);
        MemoryPlan plan;
        switch (form)
        {
            case 0 or 1:
                plan = new MemoryPlan
                {
                    AddressSize = 64, InScratch = false, Base = Register.RBP, BaseValue = address - (ulong)(long)disp, Displacement = disp,
                    Segment = form == 0 ? Register.None : Register.DS,
                };
                d.Kind = form == 0 ? "non-canonical rbp" : "non-canonical ds:rbp";
                break;
            case 2:
            {
                var index = FreeRegister(d);
                if (index < 0) return false;
                plan = new MemoryPlan
                {
                    AddressSize = 64, InScratch = false, Base = Register.RSP, Index = Register.RAX + index,
                    IndexValue = address - DataLayout.Address(_mode, DataLayout.CaseStack), Segment = Register.None,
                };
                d.Kind = "non-canonical rsp+index";
                break;
            }
            default:
            {
                var b = FreeRegister(d);
                if (b < 0) return false;
                plan = new MemoryPlan { AddressSize = 64, InScratch = false, Base = Register.RAX + b, BaseValue = address, Segment = Register.SS };
                d.Kind = "non-canonical ss:";
                break;
            }
        }
        d.Plan = plan;
        d.PlanUsed = true;
        plan.Apply(ref ins, operand);
        if (!Encodable(ins)) return false;
        d.Add(ins);
        return true;
    }

    /// <summary>Read-modify-write instructions on the unmapped GiB (or straddling into it): #PF with W/R=1 in the error code.</summary>
    private bool ReadModifyWritePageFaultTemplate(CaseDraft d)
    {
        d.Kind = "#PF read-modify-write";
        if (!TryMemoryInstruction(d, m => !IsStackMnemonic(m) && !InstructionPool.WritesOnlyRegisters(m), out var ins, out var operand)) return false;
        var access = _info.GetInfo(ins).GetUsedMemory().FirstOrDefault().Access;
        if (access is not (OpAccess.ReadWrite or OpAccess.ReadCondWrite)) return false;
        var size = (ulong)Math.Max(1, ins.MemorySize.GetSize());
        // CMPXCHG16B checks its 16-byte alignment (#GP(0)) before it translates.
        var aligned = ins.Mnemonic == Mnemonic.Cmpxchg16b;
        var straddle = size > 1 && !aligned && _rng.Next(4) == 0;
        var address = straddle ? DataLayout.UnmappedLinear - (ulong)_rng.Next(1, (int)size) : DataLayout.UnmappedLinear + (ulong)_rng.Next(0, 0x4000);
        if (aligned) address &= ~0xFUL;
        var b = FreeRegister(d);
        if (b < 0) return false;
        var plan = new MemoryPlan { AddressSize = 64, InScratch = false, Base = Register.RAX + b, BaseValue = address, Segment = Register.None };
        d.Plan = plan;
        d.PlanUsed = true;
        plan.Apply(ref ins, operand);
        if (!Encodable(ins)) return false;
        d.Add(ins);
        return true;
    }

    /// <summary>CMPXCHG8B/CMPXCHG16B on an aligned scratch operand that equals EDX:EAX (RDX:RAX) or not; the SDM says only ZF changes.</summary>
    private bool CompareExchangeTemplate(CaseDraft d)
    {
        var wide = _bitness == 64 && _rng.Next(2) == 0;
        d.Kind = wide ? "cmpxchg16b" : "cmpxchg8b";
        var target = (uint)_rng.Next(0x4, 0x1C) * 0x10;
        // The case's initial PUSH of its flags (below CaseStack) would overwrite an operand that reaches it.
        var pushSlot = DataLayout.CaseStack - DataLayout.Scratch - (uint)(_bitness / 8);
        if (target < DataLayout.CaseStack - DataLayout.Scratch && target + (wide ? 16u : 8u) > pushSlot) return false;
        d.Plan = PlanFor(RandomAddressSize(), target, DataLayout.Scratch + target, RandomSegment());
        var ins = new Instruction { Code = wide ? Code.Cmpxchg16b_m128 : Code.Cmpxchg8b_m64 };
        d.Plan.Apply(ref ins, 0);
        d.PlanUsed = true;
        if (_rng.Next(100) < 10) ins.HasLockPrefix = true;
        if (!Encodable(ins)) return false;
        var bits = _bitness == 64 ? 64 : 32;
        var low = RandomValue(bits);
        var high = RandomValue(bits);
        if (!d.Force(0, low) || !d.Force(2, high)) return false;
        if (_rng.Next(2) == 0)
        {
            var bytes = new byte[16];
            if (wide)
            {
                BitConverter.TryWriteBytes(bytes, low);
                BitConverter.TryWriteBytes(bytes.AsSpan(8), high);
            }
            else
            {
                BitConverter.TryWriteBytes(bytes, (uint)low);
                BitConverter.TryWriteBytes(bytes.AsSpan(4), (uint)high);
            }
            for (var k = 0; k < (wide ? 16 : 8); k += 4)
                d.Overrides.Add((target + (uint)k, BitConverter.ToUInt32(bytes, k)));
            d.Kind += " equal";
        }
        d.Add(ins);
        if (_rng.Next(2) == 0)
        {
            Mnemonic[] readers = [Mnemonic.Adc, Mnemonic.Sbb, Mnemonic.Setp, Mnemonic.Seto, Mnemonic.Sets, Mnemonic.Lahf, Mnemonic.Pushf];
            if (!TryGeneric(d, readers[_rng.Next(readers.Length)], false, out var reader)) return false;
            d.Add(reader);
        }
        return true;
    }
}
