using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Task management (SDM vol. 3, ch. 7): the task switch by CALL, JMP, IRET or a task gate, and the return through the back link.</summary>
public sealed unsafe partial class Processor
{
    /// <summary>The source of a task switch as VM exits report it: 0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT (SDM vol. 3, table 28-2).</summary>
    /// <summary>
    /// The hardware task switch of SDM vol. 3, 7.3 for 32-bit and 16-bit TSSs: save the current
    /// state into the old TSS, load the new one, manage busy flags, NT and the back link, set
    /// CR0.TS, and push the error code when an exception caused the switch. Long mode has no task
    /// switching (#GP is raised by the callers before getting here).
    /// </summary>
    private bool TaskSwitch(ushort selector, TaskSwitchSource source, ulong returnRip, bool hasError, uint error, bool external)
    {
        var ext = external ? 1u : 0u;
        var selError = (uint)(selector & 0xFFFC) | ext;
        if ((selector & 4) != 0) return RaiseFault(ExceptionVector.GP, selError);
        if (!ReadDescriptor(selector, out var desc, ExceptionVector.GP, ext)) return false;
        var newTss = DescriptorToSegment(selector, desc);
        var type = newTss.Type;
        var busyExpected = source == TaskSwitchSource.Iret;
        if (!newTss.IsSystem || (type & 0x5) != 0x1 || ((type & 2) != 0) != busyExpected)
            return RaiseFault(source == TaskSwitchSource.Iret ? ExceptionVector.TS : ExceptionVector.GP, selError);
        if (!newTss.Present) return RaiseFault(ExceptionVector.NP, selError);
        var new32 = (type & 8) != 0;
        if (newTss.Limit < (new32 ? 0x67u : 0x2Bu)) return RaiseFault(ExceptionVector.TS, selError);
        var length = source == TaskSwitchSource.Gate ? 0 : (int)Math.Min(returnRip - Rip, 15);
        if (Hooks != null && Offer(new Intercept(InterceptKind.TaskSwitch) { TaskSwitch = new(selector, source, length, hasError ? error : null) }))
        {
            _stopBlock = true;
            _eventsPending = true;
            // Through a task gate the unit's exit ends the event's delivery; an instruction's switch did not happen.
            return source == TaskSwitchSource.Gate;
        }

        var old32 = (Tr.Type & 8) != 0;
        var flags = MaterializeFlags();
        if (source == TaskSwitchSource.Iret) flags &= ~Rflags.NT;

        // Read the whole new state first, so that nothing is changed when the new TSS is unreadable.
        var n = _taskScratch;
        ulong debugTrap = 0;
        if (new32)
        {
            if (!ReadSystem(newTss.Base + 0x1C, 4, out n[0])) return false;
            for (var i = 0; i < 10; i++)
                if (!ReadSystem(newTss.Base + 0x20 + (ulong)(i * 4), 4, out n[1 + i])) return false;
            for (var i = 0; i < 7; i++)
                if (!ReadSystem(newTss.Base + 0x48 + (ulong)(i * 4), 2, out n[11 + i])) return false;
            if (!ReadSystem(newTss.Base + 0x64, 2, out debugTrap)) return false;
        }
        else
        {
            n[0] = Cr3;
            for (var i = 0; i < 10; i++)
                if (!ReadSystem(newTss.Base + 0x0E + (ulong)(i * 2), 2, out n[1 + i])) return false;
            for (var i = 0; i < 5; i++)
                if (!ReadSystem(newTss.Base + 0x22 + (ulong)(i * 2), 2, out n[11 + i])) return false;
            n[16] = 0;
            n[17] = n[15];
            n[15] = 0;
        }

        // Save the outgoing task.
        var oldBase = Tr.Base;
        if (old32)
        {
            if (!WriteSystem(oldBase + 0x20, 4, returnRip) || !WriteSystem(oldBase + 0x24, 4, flags)) return false;
            for (var i = 0; i < 8; i++)
                if (!WriteSystem(oldBase + 0x28 + (ulong)(i * 4), 4, _r[i])) return false;
            for (var i = 0; i < 6; i++)
                if (!WriteSystem(oldBase + 0x48 + (ulong)(i * 4), 2, _seg[i].Selector)) return false;
        }
        else
        {
            if (!WriteSystem(oldBase + 0x0E, 2, returnRip) || !WriteSystem(oldBase + 0x10, 2, flags)) return false;
            for (var i = 0; i < 8; i++)
                if (!WriteSystem(oldBase + 0x12 + (ulong)(i * 2), 2, _r[i])) return false;
            for (var i = 0; i < 4; i++)
                if (!WriteSystem(oldBase + 0x22 + (ulong)(i * 2), 2, _seg[i].Selector)) return false;
        }

        var oldSelector = Tr.Selector;
        if (source is TaskSwitchSource.Jump or TaskSwitchSource.Iret)
        {
            var oldDescAddr = Gdtr.Base + (ulong)(oldSelector & 0xFFF8) + 5;
            if (ReadSystem(oldDescAddr, 1, out var access)) WriteSystem(oldDescAddr, 1, access & ~2UL);
        }
        var newFlags = n[2];
        if (source is TaskSwitchSource.Call or TaskSwitchSource.Gate)
        {
            newFlags |= Rflags.NT;
            if (!WriteSystem(newTss.Base, 2, oldSelector)) return false;
        }
        if (source != TaskSwitchSource.Iret)
        {
            if (!WriteSystem(Gdtr.Base + (ulong)(selector & 0xFFF8) + 5, 1, (desc >> 40) | 2)) return false;
        }
        newTss.Attributes |= 2;
        Tr = newTss;
        Cr0 |= Registers.Cr0.TS;
        // The local breakpoint enables belong to the old task (SDM vol. 3, 17.2.4).
        if ((_dr[7] & DebugControl.LocalEnables) != 0)
        {
            _dr[7] &= ~DebugControl.LocalEnables;
            BreakpointsChanged();
        }
        // The T flag of a 32-bit TSS: a #DB with BT once the switch is complete, before the new task's first instruction (17.3.1.5).
        if ((debugTrap & 1) != 0)
        {
            _debugTrapStatus |= DebugStatus.BT;
            _stopBlock = true;
        }

        if (new32 && PagingEnabled && n[0] != Cr3)
        {
            // A task switch loads the PDPTEs of the new CR3 under PAE paging; reserved bits raise #GP in the new task.
            if (PaePaging(Cr0, Cr4, Efer) && !TryLoadPdptes(n[0])) return RaiseFault(ExceptionVector.GP, 0);
            Cr3 = n[0];
            FlushTranslations();
        }
        Rip = new32 ? (uint)n[1] : (ushort)n[1];
        _flags = (new32 ? newFlags : (flags & ~0xFFFFUL) | (newFlags & 0xFFFF)) & Rflags.Implemented | Rflags.Reserved1;
        _lazyMask = 0;
        for (var i = 0; i < 8; i++)
        {
            var v = n[3 + i];
            _r[i] = new32 ? (uint)v : (_r[i] & ~0xFFFFUL) | (ushort)v;
        }

        // Selectors are loaded first and their descriptors afterwards, in the new task's context.
        for (var i = 0; i < 6; i++)
        {
            _seg[i] = new SegmentRegister { Selector = (ushort)n[11 + i], Attributes = SegmentRegister.UnusableBit };
        }
        Ldtr = new SegmentRegister { Selector = (ushort)n[17], Attributes = SegmentRegister.UnusableBit };
        if (InVirtual8086Mode)
        {
            for (var i = 0; i < 6; i++) LoadRealModeSegment(i, (ushort)n[11 + i]);
            ModeChanged();
            return PushTaskError(hasError, error);
        }
        if (!LoadTaskLdt((ushort)n[17])) return false;
        if (!LoadTaskCode((ushort)n[12])) return false;
        if (!LoadTaskStack((ushort)n[13])) return false;
        foreach (var s in DataSegments)
        {
            var sel = (ushort)n[11 + (int)s];
            if ((sel & 0xFFFC) == 0) continue;
            if (!ReadDescriptor(sel, out var d, ExceptionVector.TS, 0)) return false;
            var seg = DescriptorToSegment(sel, d);
            var err = (uint)(sel & 0xFFFC);
            if (seg.IsSystem || (seg.IsCode && (seg.Type & 2) == 0)) return RaiseFault(ExceptionVector.TS, err);
            var conforming = seg.IsCode && (seg.Type & 4) != 0;
            if (!conforming && (seg.Dpl < Cpl || seg.Dpl < (sel & 3))) return RaiseFault(ExceptionVector.TS, err);
            if (!seg.Present) return RaiseFault(ExceptionVector.NP, err);
            SetAccessedBit(sel, d);
            seg.Attributes |= 1;
            _seg[(int)s] = seg;
            SegmentChanged((int)s);
        }
        return PushTaskError(hasError, error);
    }

    private readonly ulong[] _taskScratch = new ulong[18];

    private bool PushTaskError(bool hasError, uint error)
    {
        _stopBlock = true;
        _eventsPending = true;
        if (!hasError) return true;
        return Push(error, (Tr.Type & 8) != 0 ? 4 : 2);
    }

    private bool LoadTaskLdt(ushort selector)
    {
        if ((selector & 0xFFFC) == 0) return true;
        var err = (uint)(selector & 0xFFFC);
        if ((selector & 4) != 0) return RaiseFault(ExceptionVector.TS, err);
        if (!ReadDescriptor(selector, out var d, ExceptionVector.TS, 0)) return false;
        var ldt = DescriptorToSegment(selector, d);
        if (!ldt.IsSystem || ldt.Type != 2) return RaiseFault(ExceptionVector.TS, err);
        if (!ldt.Present) return RaiseFault(ExceptionVector.TS, err);
        Ldtr = ldt;
        return true;
    }

    private bool LoadTaskCode(ushort selector)
    {
        var err = (uint)(selector & 0xFFFC);
        if ((selector & 0xFFFC) == 0) return RaiseFault(ExceptionVector.TS, 0);
        if (!ReadDescriptor(selector, out var d, ExceptionVector.TS, 0)) return false;
        var cs = DescriptorToSegment(selector, d);
        if (cs.IsSystem || !cs.IsCode) return RaiseFault(ExceptionVector.TS, err);
        var rpl = selector & 3;
        if ((cs.Type & 4) != 0 ? cs.Dpl > rpl : cs.Dpl != rpl) return RaiseFault(ExceptionVector.TS, err);
        if (!cs.Present) return RaiseFault(ExceptionVector.NP, err);
        SetAccessedBit(selector, d);
        cs.Attributes |= 1;
        cs.Attributes = (cs.Attributes & ~0x60u) | (uint)(rpl << 5);
        _seg[(int)SegmentIndex.CS] = cs;
        SegmentChanged((int)SegmentIndex.CS);
        ModeChanged();
        return true;
    }

    private bool LoadTaskStack(ushort selector)
    {
        var err = (uint)(selector & 0xFFFC);
        if ((selector & 0xFFFC) == 0) return RaiseFault(ExceptionVector.TS, 0);
        if (!ReadDescriptor(selector, out var d, ExceptionVector.TS, 0)) return false;
        var ss = DescriptorToSegment(selector, d);
        if (ss.IsSystem || ss.IsCode || (ss.Type & 2) == 0 || ss.Dpl != Cpl || (selector & 3) != Cpl)
            return RaiseFault(ExceptionVector.TS, err);
        if (!ss.Present) return RaiseFault(ExceptionVector.SS, err);
        SetAccessedBit(selector, d);
        ss.Attributes |= 1;
        _seg[(int)SegmentIndex.SS] = ss;
        SegmentChanged((int)SegmentIndex.SS);
        return true;
    }

    /// <summary>IRET with NT set: return to the task named by the back link of the current TSS.</summary>
    private bool TaskReturn(int instructionLength)
    {
        if (!ReadSystem(Tr.Base, 2, out var link)) return false;
        return TaskSwitch((ushort)link, TaskSwitchSource.Iret, Rip + (ulong)instructionLength, false, 0, false);
    }
}
