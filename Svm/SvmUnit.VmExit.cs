using Sim.Cpu.Virtualization;
using Sim.Cpu;
using Sim.Cpu.Registers;

namespace Sim.Svm;

/// <summary>#VMEXIT (AMD APM vol. 2, 15.6): guest state and exit information to the VMCB, host state back, GIF cleared.</summary>
public sealed partial class SvmUnit
{
    /// <summary>A #VMEXIT for an intercepted instruction: nRIP is the next instruction's RIP (NRIP save, 15.7.1).</summary>
    private void ExitForInstruction(ulong exitCode, ulong exitInfo1, ulong exitInfo2)
    {
        var cpu = _cpu;
        VmExit(exitCode, exitInfo1, exitInfo2, (cpu.Rip + (ulong)_intercept.Instruction.Length) & RipMask(cpu));
    }

    /// <summary>Performs #VMEXIT with the given EXITCODE, EXITINFO1, EXITINFO2 and nRIP.</summary>
    private void VmExit(ulong exitCode, ulong exitInfo1, ulong exitInfo2, ulong nextRip)
    {
        var cpu = _cpu;
        var m = _memory;
        var v = VmcbAddress;
        var c = _vmcbState;
        var guestRip = cpu.Rip;

        c.Es = cpu.GetSegment(SegmentIndex.ES);
        c.Cs = cpu.GetSegment(SegmentIndex.CS);
        c.Ss = cpu.GetSegment(SegmentIndex.SS);
        c.Ds = cpu.GetSegment(SegmentIndex.DS);
        c.Cpl = cpu.Cpl;
        c.Gdtr = cpu.Gdtr;
        c.Idtr = cpu.Idtr;
        c.Cr0 = cpu.Cr0;
        c.Cr3 = cpu.Cr3;
        c.Cr4 = cpu.Cr4;
        c.Efer = cpu.Efer;
        c.Dr6 = cpu.GetDebugRegister(6);
        c.Dr7 = cpu.GetDebugRegister(7);
        c.Cr2 = cpu.Cr2;
        c.VIntr = (c.VIntr & ~0xFFUL) | VTpr;

        VmcbSegment.Write(m, v + VmcbLayout.Es, c.Es);
        VmcbSegment.Write(m, v + VmcbLayout.Cs, c.Cs);
        VmcbSegment.Write(m, v + VmcbLayout.Ss, c.Ss);
        VmcbSegment.Write(m, v + VmcbLayout.Ds, c.Ds);
        m.Write(v + VmcbLayout.Cpl, 1, (ulong)c.Cpl);
        VmcbSegment.WriteTable(m, v + VmcbLayout.Gdtr, c.Gdtr);
        VmcbSegment.WriteTable(m, v + VmcbLayout.Idtr, c.Idtr);
        m.Write(v + VmcbLayout.Efer, 8, c.Efer);
        m.Write(v + VmcbLayout.Cr4, 8, c.Cr4);
        m.Write(v + VmcbLayout.Cr3, 8, c.Cr3);
        m.Write(v + VmcbLayout.Cr2, 8, c.Cr2);
        m.Write(v + VmcbLayout.Cr0, 8, c.Cr0);
        m.Write(v + VmcbLayout.Dr7, 8, c.Dr7);
        m.Write(v + VmcbLayout.Dr6, 8, c.Dr6);
        m.Write(v + VmcbLayout.Rflags, 8, cpu.Flags);
        m.Write(v + VmcbLayout.Rip, 8, cpu.Rip);
        m.Write(v + VmcbLayout.Rsp, 8, cpu.Rsp);
        m.Write(v + VmcbLayout.Rax, 8, cpu.Rax);
        m.Write(v + VmcbLayout.VIntr, 8, c.VIntr);
        // INTERRUPT_SHADOW (bit 0) and GUEST_INTERRUPT_MASK (bit 1, the guest's RFLAGS.IF) (table B-1).
        var shadow = cpu.BlockingBySti || cpu.BlockingByMovSs;
        m.Write(v + VmcbLayout.InterruptShadow, 8, (shadow ? 1UL : 0UL) | (cpu.InterruptsEnabled ? 2UL : 0UL));

        var during = _intercept.EventInDelivery;
        var exitIntInfo = during.HasValue ? SvmEventInjection.FromDelivered(during.Value) : 0;
        m.Write(v + VmcbLayout.ExitCode, 8, exitCode);
        m.Write(v + VmcbLayout.ExitInfo1, 8, exitInfo1);
        m.Write(v + VmcbLayout.ExitInfo2, 8, exitInfo2);
        m.Write(v + VmcbLayout.ExitIntInfo, 8, exitIntInfo);
        m.Write(v + VmcbLayout.NRip, 8, nextRip);
        m.Write(v + VmcbLayout.EventInj, 8, m.Read(v + VmcbLayout.EventInj, 8) & ~SvmEventInjection.Valid);
        if (exitCode is SvmExitCode.Npf or SvmExitCode.Exception + ExceptionVector.PF) StoreGuestInstructionBytes(v);
        else m.Write(v + VmcbLayout.NumberOfBytesFetched, 1, 0);

        LastExitCode = exitCode;
        ExitCount++;
        cpu.AddCycles(Costs.SvmExit);
        var length = nextRip > guestRip && nextRip - guestRip <= 15 ? (uint)(nextRip - guestRip) : 0;
        LoadHostState(new GuestExit(GuestExitSource.Svm, exitCode, exitInfo1, exitInfo2, length));
    }

    /// <summary>Decode assists (15.33.3): up to 15 bytes at the guest's CS:RIP for #PF and #NPF exits.</summary>
    private void StoreGuestInstructionBytes(ulong v)
    {
        var cpu = _cpu;
        Span<byte> bytes = stackalloc byte[15];
        var cs = cpu.GetSegment(SegmentIndex.CS);
        var linear = cpu.CodeBitness == 64 ? cpu.Rip : (uint)(cs.Base + cpu.Rip);
        var count = 0;
        // Bytes are fetched until the first that cannot be read (the page end of an unmapped next page).
        while (count < 15)
        {
            if (!cpu.TryReadLinear(linear + (ulong)count, bytes.Slice(count, 1))) break;
            count++;
        }
        _memory.Write(v + VmcbLayout.NumberOfBytesFetched, 1, (ulong)count);
        for (var i = 0; i < 15; i++) _memory.Write(v + VmcbLayout.GuestInstructionBytes + (ulong)i, 1, i < count ? bytes[i] : 0UL);
    }

    /// <summary>The host state #VMEXIT reloads from VM_HSAVE_PA (15.6): CR0.PE forced, DR7 with breakpoints off, CPL 0, GIF clear.</summary>
    private void LoadHostState(GuestExit exit)
    {
        var cpu = _cpu;
        var m = _memory;
        var h = _hsavePa;
        InGuest = false;
        cpu.GlobalInterruptFlag = false;
        UpdateEventPlumbing();
        cpu.SecondLevel = null;
        cpu.TranslationTag = 0;
        cpu.TscOffset = (long)_hostTscOffset;
        // Only nested paging gives the guest its own PAT (G_PAT); without it the guest's writes went to the host PAT (15.25.8).
        if (_vmcbState.NpEnable) cpu.Pat = _hostPat;
        // The host's CR8 never changed: under V_INTR_MASKING the guest's went to V_TPR; without it the guest wrote the APIC's TPR itself, which stays (15.21.2).
        cpu.VirtualTpr = null;
        if (cpu.BlockingBySti || cpu.BlockingByMovSs) cpu.SetInterruptShadow(false, false);
        cpu.Flags = m.Read(h + VmcbLayout.Rflags, 8);
        cpu.SetSegment(SegmentIndex.ES, VmcbSegment.Read(m, h + VmcbLayout.Es, true));
        cpu.SetSegment(SegmentIndex.CS, VmcbSegment.Read(m, h + VmcbLayout.Cs, false));
        cpu.SetSegment(SegmentIndex.SS, VmcbSegment.Read(m, h + VmcbLayout.Ss, true));
        cpu.SetSegment(SegmentIndex.DS, VmcbSegment.Read(m, h + VmcbLayout.Ds, true));
        cpu.Gdtr = VmcbSegment.ReadTable(m, h + VmcbLayout.Gdtr);
        cpu.Idtr = VmcbSegment.ReadTable(m, h + VmcbLayout.Idtr);
        cpu.LoadControlState(m.Read(h + VmcbLayout.Cr0, 8) | Cr0.PE, m.Read(h + VmcbLayout.Cr3, 8), m.Read(h + VmcbLayout.Cr4, 8), m.Read(h + VmcbLayout.Efer, 8), flush: false);
        cpu.Rip = m.Read(h + VmcbLayout.Rip, 8);
        cpu.Rsp = m.Read(h + VmcbLayout.Rsp, 8);
        cpu.Rax = m.Read(h + VmcbLayout.Rax, 8);
        cpu.SetDebugRegister(7, 0x400);
        cpu.Activity = ActivityState.Active;
        cpu.ReportGuestExit(exit);
    }
}
