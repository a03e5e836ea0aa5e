using Iced.Intel;

namespace Sim.Differential.Tests;

public sealed partial class CaseGenerator
{
    /// <summary>Picks the initial state and computes the masks; null when a branch would depend on an undefined flag.</summary>
    private TestCase? Finish(int index, CaseDraft d)
    {
        if (d.PlanUsed)
        {
            if (d.Plan.Base != Register.None && !d.Force(FullIndex(d.Plan.Base), d.Plan.BaseValue)) return null;
            if (d.Plan.Index != Register.None && !d.Force(FullIndex(d.Plan.Index), d.Plan.IndexValue)) return null;
        }
        var wide = _bitness == 64;
        var regs = new ulong[16];
        for (var i = 0; i < RegisterCount; i++) regs[i] = RandomValue(wide ? 64 : 32);
        foreach (var (r, v) in d.Forced) regs[r] = wide ? v : (uint)v;
        regs[Rsp] = DataLayout.Address(_mode, DataLayout.CaseStack);
        var flags = 0x2u | ((uint)_rng.Next() & Eflags.Compared);

        var overrides = new List<(uint, uint)>();
        if (d.PlanUsed && d.Plan.InScratch)
            for (var k = -4; k <= 12; k += 4)
                overrides.Add(((uint)(d.Plan.Target + k), (uint)RandomValue(32)));
        overrides.AddRange(d.Overrides);

        var memory = (byte[])Pristine.Clone();
        // Overrides beyond the scratch area (a selector where a wrapped stack pointer reads it) are not tracked.
        foreach (var (o, v) in overrides)
            if (o <= memory.Length - 4) BitConverter.TryWriteBytes(memory.AsSpan((int)o), v);
        var pushed = _bitness / 8;
        var flagBytes = BitConverter.GetBytes((ulong)flags);
        Array.Copy(flagBytes, 0, memory, DataLayout.CaseStack - DataLayout.Scratch - pushed, pushed);

        var masks = Track(d, regs, memory);
        if (masks == null) return null;
        return new TestCase
        {
            Index = index, Mode = _mode, Kind = d.Kind, Steps = d.Steps, Registers = regs, Flags = flags,
            MemoryOverrides = overrides, Masks = masks,
        };
    }

    /// <summary>
    /// Follows the steps in order and records after each which flags, registers and memory hold
    /// SDM-defined values. Undefinedness spreads: a step that reads an undefined input makes all it
    /// writes undefined. Skipped or repeated steps (branches, loops) are treated as run once, which
    /// only masks more, never less, because the generator keeps their bodies fully defined.
    /// </summary>
    private List<StateMask>? Track(CaseDraft d, ulong[] regs, byte[] memory)
    {
        var defined = Eflags.Compared;
        var undefinedRegs = 0;
        var memoryUndefined = false;
        var knownRegs = ~0;
        var memoryKnown = true;
        var masks = new List<StateMask> { new(defined, 0, false) };
        foreach (var step in d.Steps)
        {
            var ins = step.Instruction;
            if (ins.Code == Code.INVALID)
            {
                masks.Add(masks[^1]);
                continue;
            }
            var info = _info.GetInfo(ins);
            int reads = 0, writes = 0;
            foreach (var used in info.GetUsedRegisters())
            {
                if (!used.Register.IsGPR()) continue;
                var bit = 1 << FullIndex(used.Register);
                if (Reads(used.Access)) reads |= bit;
                if (Writes(used.Access)) writes |= bit;
            }
            bool memRead = false, memWrite = false;
            foreach (var m in info.GetUsedMemory())
            {
                memRead |= Reads(m.Access);
                memWrite |= Writes(m.Access);
            }
            var flagsRead = Eflags.FromIced(ins.RflagsRead) & Eflags.Compared;
            var modified = Eflags.FromIced(ins.RflagsModified) & Eflags.Compared;
            var tainted = (reads & undefinedRegs) != 0 || (memRead && memoryUndefined) || (flagsRead & ~defined) != 0;
            // Whether a branch is taken, or INTO, BOUND, DIV or IDIV faults, must not hang on an undefined input.
            if (tainted && (step.BranchTarget != null || ins.Mnemonic is Mnemonic.Into or Mnemonic.Bound or Mnemonic.Div or Mnemonic.Idiv)) return null;
            if (tainted)
            {
                undefinedRegs |= writes;
                memoryUndefined |= memWrite;
                defined &= ~modified;
            }
            else
            {
                var value = UndefinedBehaviour.NeedsValue(ins.Mnemonic) ? KnownValue(d, ins, regs, knownRegs, memory, memoryKnown) : null;
                var next = Eflags.Compared;
                var destinationUndefined = false;
                foreach (var o in UndefinedBehaviour.Outcomes(ins, modified, value))
                {
                    next &= (defined & ~o.Modified) | (o.Modified & ~o.Undefined);
                    destinationUndefined |= o.DestinationUndefined;
                }
                defined = next & Eflags.Compared;
                if (destinationUndefined)
                {
                    undefinedRegs |= writes;
                    memoryUndefined |= memWrite;
                }
            }
            knownRegs &= ~writes;
            memoryKnown &= !memWrite;
            masks.Add(new StateMask(defined, undefinedRegs, memoryUndefined));
        }
        return masks;
    }

    /// <summary>The count of a shift/rotate or the source of BSF/BSR, if the initial state still determines it.</summary>
    private ulong? KnownValue(CaseDraft d, in Instruction ins, ulong[] regs, int knownRegs, byte[] memory, bool memoryKnown)
    {
        var bits = UndefinedBehaviour.OperandBits(ins);
        var operand = ins.Mnemonic is Mnemonic.Bsf or Mnemonic.Bsr ? 1 : ins.OpCount - 1;
        switch (ins.GetOpKind(operand))
        {
            case OpKind.Immediate8:
                return ins.Immediate8;
            case OpKind.Register:
            {
                var reg = ins.GetOpRegister(operand);
                var full = FullIndex(reg);
                if ((knownRegs & (1 << full)) == 0) return null;
                var v = regs[full];
                if (reg is >= Register.AH and <= Register.BH) v >>= 8;
                return reg.GetSize() switch { 1 => v & 0xFF, 2 => v & 0xFFFF, 4 => v & 0xFFFFFFFF, _ => v };
            }
            case OpKind.Memory when memoryKnown && d.PlanUsed && d.Plan.InScratch:
            {
                var bytes = bits / 8;
                if (d.Plan.Target + bytes > memory.Length) return null;
                ulong v = 0;
                for (var i = bytes - 1; i >= 0; i--) v = (v << 8) | memory[d.Plan.Target + i];
                return v;
            }
            default:
                return null;
        }
    }
}
