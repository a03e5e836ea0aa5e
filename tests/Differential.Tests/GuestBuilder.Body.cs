using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

public static partial class GuestBuilder
{
    private static readonly AssemblerRegister32[] Legacy = [eax, ecx, edx, ebx, esp, ebp, esi, edi];
    private static readonly AssemblerRegister64[] Long = [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];

    /// <summary>Vectors that push an error code in protected and long mode.</summary>
    public static bool HasErrorCode(int vector) => vector is 8 or 10 or 11 or 12 or 13 or 14 or 17 or 21 or 29 or 30;

    private static byte[] AssembleBody(GuestMode mode, IReadOnlyList<TestCase> cases, uint bodyBase, GuestOptions options,
        out ulong[] vectorAddresses, out ulong[] caseStarts, out ulong endAddress)
    {
        var a = new Assembler(mode.Bitness());
        var wide = mode == GuestMode.Long64;
        var slot = mode.SlotBytes();
        uint A(uint offset) => DataLayout.Address(mode, offset);
        AssemblerMemoryOperand S(int i) => wide ? __qword_ptr[(ulong)(A(DataLayout.Record) + i * slot)] : __dword_ptr[A(DataLayout.Record) + (uint)(i * slot)];
        const int vectorSlot = 1, errorSlot = 2, ripSlot = 3, cr2Slot = 4, flagsSlot = 5, sumSlot = 6, regSlot = 7;

        var caseLabels = new Label[cases.Count];
        for (var i = 0; i < cases.Count; i++) caseLabels[i] = a.CreateLabel();
        var done = a.CreateLabel();
        var emit = a.CreateLabel();
        var vectorLabels = new Label[32];
        var end = a.CreateLabel();
        if (options.UserMode)
        {
            if (mode != GuestMode.Protected32) throw new ArgumentException("user mode is 32-bit only");
            a.mov(ax, DataLayout.TssSelector);
            a.ltr(ax);
        }
        a.jmp(cases.Count > 0 ? caseLabels[0] : end);

        if (mode != GuestMode.Compat32) EmitHandlers(a, mode, vectorLabels, emit, options);

        a.Label(ref done);
        if (wide)
        {
            for (var r = 0; r < 16; r++) a.mov(S(regSlot + r), Long[r]);
            a.mov(rsp, (ulong)A(DataLayout.HandlerStackTop));
            a.pushfq();
            a.pop(rax);
            a.mov(S(flagsSlot), rax);
        }
        else
        {
            for (var r = 0; r < 8; r++) a.mov(S(regSlot + r), Legacy[r]);
            a.mov(esp, A(DataLayout.HandlerStackTop));
            a.pushfd();
            a.pop(eax);
            a.mov(S(flagsSlot), eax);
        }
        a.mov(S(vectorSlot), -1);
        a.mov(S(errorSlot), 0);
        a.mov(S(ripSlot), 0);

        a.Label(ref emit);
        if (options.DebugHandler) EmitDebugDisarm(a);
        var sum = a.CreateLabel();
        var recordBytes = (DataLayout.RecordHeaderSlots + mode.RegisterCount()) * slot;
        if (wide)
        {
            a.mov(rsp, (ulong)A(DataLayout.HandlerStackTop));
            a.cld();
            a.mov(rax, cr2);
            a.mov(S(cr2Slot), rax);
            a.xor(eax, eax);
            a.mov(esi, A(DataLayout.Scratch));
            a.mov(ecx, DataLayout.ScratchSize / 4);
            a.Label(ref sum);
            a.rol(eax, 5);
            a.add(eax, __dword_ptr[rsi]);
            a.add(rsi, 4);
            a.loop(sum);
            a.mov(S(sumSlot), rax);
            a.mov(esi, A(DataLayout.Record));
            a.mov(ecx, recordBytes);
            a.mov(edx, 0xE9);
            a.rep.outsb();
            a.mov(eax, S(0));
            a.jmp(__qword_ptr[rax * 8 + (long)A(DataLayout.ResumeTable)]);
        }
        else
        {
            a.mov(esp, A(DataLayout.HandlerStackTop));
            a.cld();
            a.mov(eax, cr2);
            a.mov(S(cr2Slot), eax);
            a.xor(eax, eax);
            a.mov(esi, A(DataLayout.Scratch));
            a.mov(ecx, DataLayout.ScratchSize / 4);
            a.Label(ref sum);
            a.rol(eax, 5);
            if (mode.Bitness() == 32)
            {
                a.add(eax, __dword_ptr[esi]);
                a.add(esi, 4);
            }
            else
            {
                a.add(eax, __dword_ptr[si]);
                a.add(si, 4);
            }
            a.loop(sum);
            a.mov(S(sumSlot), eax);
            a.mov(esi, A(DataLayout.Record));
            a.mov(ecx, recordBytes);
            a.mov(dx, 0xE9);
            a.rep.outsb();
            if (mode.Bitness() == 32)
            {
                a.mov(eax, S(0));
                a.jmp(__dword_ptr[eax * 4 + A(DataLayout.ResumeTable)]);
            }
            else
            {
                a.mov(bx, __word_ptr[A(DataLayout.Record)]);
                a.shl(bx, 2);
                a.jmp(__word_ptr[bx + (int)DataLayout.ResumeTable]);
            }
        }

        var stepLabels = new Label[cases.Count][];
        for (var i = 0; i < cases.Count; i++)
        {
            a.Label(ref caseLabels[i]);
            stepLabels[i] = EmitCase(a, mode, cases[i], i, options);
            a.jmp(done);
        }

        a.Label(ref end);
        a.mov(al, 0);
        a.@out(0xF4, al);
        // QEMU and sim stop at port F4h; Bochs ignores it and stops at "Shutdown" on port 8900h.
        a.mov(dx, 0x8900);
        foreach (var ch in "Shutdown")
        {
            a.mov(al, (byte)ch);
            a.@out(dx, al);
        }
        a.hlt();
        a.jmp(end);

        var stream = new MemoryStream();
        var result = a.Assemble(new StreamCodeWriter(stream), bodyBase, BlockEncoderOptions.ReturnNewInstructionOffsets);
        if (mode == GuestMode.Compat32)
        {
            while (stream.Length % 16 != 0) stream.WriteByte(0xCC);
            stream.Write(AssembleCompatHandlers(bodyBase + (ulong)stream.Length, result.GetLabelRIP(emit), out vectorAddresses));
        }
        else vectorAddresses = vectorLabels.Select(l => result.GetLabelRIP(l)).ToArray();
        caseStarts = caseLabels.Select(l => result.GetLabelRIP(l)).ToArray();
        endAddress = result.GetLabelRIP(end);
        for (var i = 0; i < cases.Count; i++)
            cases[i].StepAddresses = stepLabels[i].Select(l => result.GetLabelRIP(l)).ToArray();
        return stream.ToArray();
    }

    /// <summary>Per-vector stubs that note the vector, and the handler that records the frame and registers and goes on to <paramref name="emit"/>.</summary>
    private static void EmitHandlers(Assembler a, GuestMode mode, Label[] vectorLabels, Label emit, GuestOptions options)
    {
        if (options.DebugHandler && mode != GuestMode.Protected32) throw new ArgumentException("the #DB handler that resumes is 32-bit only");
        var wide = mode == GuestMode.Long64;
        var slot = mode.SlotBytes();
        uint A(uint offset) => DataLayout.Address(mode, offset);
        AssemblerMemoryOperand S(int i) => wide ? __qword_ptr[(ulong)(A(DataLayout.Record) + i * slot)] : __dword_ptr[A(DataLayout.Record) + (uint)(i * slot)];
        const int vectorSlot = 1, errorSlot = 2, ripSlot = 3, flagsSlot = 5, regSlot = 7;
        var common = a.CreateLabel();
        var withError = a.CreateLabel();

        for (var v = 0; v < 32; v++)
        {
            vectorLabels[v] = a.CreateLabel();
            if (v == 1 && options.DebugHandler)
            {
                EmitDebugHandler(a, ref vectorLabels[v]);
                continue;
            }
            a.Label(ref vectorLabels[v]);
            if (wide)
            {
                a.mov(S(vectorSlot), v);
                a.mov(S(errorSlot), 0);
            }
            else
            {
                a.mov(S(vectorSlot), v);
                a.mov(S(errorSlot), 0);
                a.mov(S(ripSlot), 0);
                a.mov(S(flagsSlot), 0);
            }
            a.jmp(HasErrorCode(v) && mode != GuestMode.Real16 ? withError : common);
        }

        a.Label(ref withError);
        if (wide) a.pop(S(errorSlot));
        else if (mode == GuestMode.Protected32) a.pop(S(errorSlot));
        else a.pop(__word_ptr[A(DataLayout.Record) + (uint)(errorSlot * slot)]);

        a.Label(ref common);
        var temp = A(DataLayout.Temp);
        if (wide)
        {
            a.pop(S(ripSlot));
            a.pop(__qword_ptr[(ulong)temp]);
            a.pop(S(flagsSlot));
            a.pop(S(regSlot + 4));
            a.pop(__qword_ptr[(ulong)temp]);
            for (var r = 0; r < 16; r++)
                if (r != 4) a.mov(S(regSlot + r), Long[r]);
            a.mov(rsp, S(regSlot + 4));
            a.mov(rdi, rsp);
            a.sub(rdi, 64);
            a.mov(ecx, 8);
            a.xor(eax, eax);
            a.cld();
            a.rep.stosq();
        }
        else
        {
            if (mode == GuestMode.Protected32)
            {
                a.pop(S(ripSlot));
                a.pop(__dword_ptr[temp]);
                a.pop(S(flagsSlot));
            }
            else
            {
                a.pop(__word_ptr[A(DataLayout.Record) + (uint)(ripSlot * slot)]);
                a.pop(__word_ptr[temp]);
                a.pop(__word_ptr[A(DataLayout.Record) + (uint)(flagsSlot * slot)]);
            }
            for (var r = 0; r < 8; r++) a.mov(S(regSlot + r), Legacy[r]);
            if (mode == GuestMode.Protected32)
            {
                a.mov(edi, esp);
                a.sub(edi, 64);
            }
            else
            {
                a.mov(di, sp);
                a.sub(di, 64);
            }
            a.mov(ecx, 16);
            a.xor(eax, eax);
            a.cld();
            a.rep.stosd();
        }
        a.jmp(emit);
    }


    /// <summary>Loads the case's initial state (and its position in the guest, which indexes the resume table) and emits its steps; returns a label per step and one at the end.</summary>
    private static Label[] EmitCase(Assembler a, GuestMode mode, TestCase c, int position, GuestOptions options)
    {
        var wide = mode == GuestMode.Long64;
        uint A(uint offset) => DataLayout.Address(mode, offset);
        if (options.ReloadSegments)
        {
            a.mov(ax, DataLayout.Data32Selector);
            a.mov(ds, ax);
            a.mov(es, ax);
            a.mov(fs, ax);
            a.mov(ss, ax);
        }
        else if (mode is GuestMode.Protected32 or GuestMode.Protected16)
        {
            if (options.DebugHandler) EmitDebugReset(a);
            if (options.UserMode) EmitUserModeReset(a);
            // Stack-segment cases leave SS of the other size behind; every case starts on the mode's own.
            a.mov(ax, mode == GuestMode.Protected32 ? DataLayout.Data32Selector : DataLayout.Data16Selector);
            a.mov(ss, ax);
        }
        if (wide) a.mov(__qword_ptr[(ulong)A(DataLayout.Record)], position);
        else a.mov(__dword_ptr[A(DataLayout.Record)], position);
        a.mov(esp, A(DataLayout.CaseStack));
        a.mov(esi, A(DataLayout.Pristine));
        a.mov(edi, A(DataLayout.Scratch));
        a.mov(ecx, DataLayout.ScratchSize / 4);
        a.cld();
        a.rep.movsd();
        foreach (var (offset, value) in c.MemoryOverrides)
            a.mov(wide ? __dword_ptr[(ulong)A(DataLayout.Scratch + offset)] : __dword_ptr[A(DataLayout.Scratch + offset)], value);
        // The SS-limit segment cases read at the top of the handler stack, where the last exception frame's EFLAGS image
        // may carry an earlier case's undefined flags: they start from a cleared slot.
        if (c.Kind == "segment SS limit")
            a.mov(wide ? __dword_ptr[(ulong)A(DataLayout.HandlerStackTop - 4)] : __dword_ptr[A(DataLayout.HandlerStackTop - 4)], 0);
        switch (mode.Bitness())
        {
            case 16:
                a.push((short)c.Flags);
                a.popf();
                break;
            case 32:
                a.push((int)c.Flags);
                a.popfd();
                break;
            default:
                a.push((int)c.Flags);
                a.popfq();
                break;
        }
        for (var r = 0; r < mode.RegisterCount(); r++)
        {
            if (r == 4) continue;
            if (wide) a.mov(Long[r], c.Registers[r]);
            else a.mov(Legacy[r], (uint)c.Registers[r]);
        }

        var labels = new Label[c.Steps.Count + 1];
        for (var k = 0; k < labels.Length; k++) labels[k] = a.CreateLabel();
        for (var k = 0; k < c.Steps.Count; k++)
        {
            a.Label(ref labels[k]);
            var step = c.Steps[k];
            if (step.Raw != null) a.db(step.Raw);
            else if (step.BranchTarget is { } target) EmitBranch(a, mode.Bitness(), step.Instruction.Mnemonic, labels[target]);
            else a.AddInstruction(step.Instruction);
        }
        a.Label(ref labels[^1]);
        return labels;
    }

    private static readonly Mnemonic[] ConditionalJumps =
    [
        Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne, Mnemonic.Jbe, Mnemonic.Ja,
        Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle, Mnemonic.Jg,
    ];

    private static void EmitBranch(Assembler a, int bitness, Mnemonic m, Label target)
    {
        var cc = Array.IndexOf(ConditionalJumps, m);
        if (cc >= 0)
        {
            CaseGenerator.EmitConditional(a, cc, target);
            return;
        }
        var kind = m switch
        {
            Mnemonic.Loop => 0,
            Mnemonic.Loope => 1,
            Mnemonic.Loopne => 2,
            Mnemonic.Jcxz or Mnemonic.Jecxz or Mnemonic.Jrcxz => 3,
            _ => throw new InvalidOperationException($"not a branch: {m}"),
        };
        CaseGenerator.EmitCountBranch(a, bitness, kind, target);
    }
}
