using Iced.Intel;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>
/// The processor's side of the virtualization interface: intercepts see the instruction, a unit
/// can emulate or abandon it, exceptions and second-level faults reach the unit with the event
/// being delivered, and the processor honours windows, deadlines, GIF and translation tags.
/// </summary>
[TestClass]
public sealed class VirtualizationInterfaceTests
{
    [TestMethod]
    public void DeclinedCpuidExecutesAndReportsTheInstruction()
    {
        using var g = GuestRunner.Protected(a => { a.mov(eax, 0); a.cpuid(); a.hlt(); });
        var hooks = new RecordingHooks();
        g.Cpu.Hooks = hooks;
        g.Run();
        var call = hooks.Calls.Single(c => c.Kind == InterceptKind.Cpuid);
        Assert.AreEqual(Code.Cpuid, call.Instruction.Code);
        Assert.AreEqual(2, call.Instruction.Length);
        Assert.AreEqual(0x756E6547UL, g.Cpu.Rbx & 0xFFFFFFFF, "the processor's own CPUID ran: 'Genu'");
    }

    [TestMethod]
    public void EmulatedInstructionAdvancesRipAndRetires()
    {
        using var g = GuestRunner.Protected(a => { a.cpuid(); a.hlt(); });
        var hooks = new RecordingHooks
        {
            Handler = (Processor cpu, ref Intercept e) =>
            {
                if (e.Kind != InterceptKind.Cpuid) return false;
                cpu.Rax = 0x1234;
                cpu.CompleteInstruction();
                return true;
            },
        };
        g.Cpu.Hooks = hooks;
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(0x1234UL, g.Cpu.Rax);
        Assert.AreEqual(GuestRunner.CodeAddress + 3, g.Cpu.Rip, "after the CPUID (2 bytes) and the HLT");
        Assert.AreEqual(2UL, g.Cpu.InstructionsRetired);
    }

    [TestMethod]
    public void HandledWithoutCompletionIsNotRetiredAndKeepsWhatTheUnitLoaded()
    {
        using var g = GuestRunner.Protected(a => { a.nop(); a.cpuid(); a.hlt(); });
        g.Code(32, 0x20000, a => a.hlt());
        g.Cpu.Hooks = new RecordingHooks
        {
            Handler = (Processor cpu, ref Intercept e) =>
            {
                if (e.Kind != InterceptKind.Cpuid) return false;
                cpu.Rip = 0x20000;
                return true;
            },
        };
        g.Run();
        Assert.AreEqual(0x20001UL, g.Cpu.Rip, "the unit's RIP, then the HLT there");
        Assert.AreEqual(2UL, g.Cpu.InstructionsRetired, "NOP and the HLT; the CPUID did not retire");
    }

    [TestMethod]
    public void VirtualizationInstructionReadsItsMemoryOperand()
    {
        using var g = GuestRunner.Long(a => { a.mov(rbx, 0x50000); a.vmptrld(__qword_ptr[rbx + 8]); a.hlt(); });
        g.Memory.Write(0x50008, 8, 0xAABBCCDD11223344);
        ulong seen = 0;
        InterceptedInstruction info = default;
        g.Cpu.Hooks = new RecordingHooks
        {
            Handler = (Processor cpu, ref Intercept e) =>
            {
                if (e.Kind != InterceptKind.VirtualizationInstruction) return false;
                info = e.Instruction;
                Assert.AreEqual(0x50008UL, cpu.OperandLinearAddress());
                if (!cpu.ReadOperand(8, out seen)) return true;
                cpu.CompleteInstruction();
                return true;
            },
        };
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(0xAABBCCDD11223344UL, seen);
        Assert.AreEqual(Code.Vmptrld_m64, info.Code);
        Assert.IsTrue(info.HasMemoryOperand);
        Assert.AreEqual(3, info.BaseRegister);
        Assert.AreEqual(-1, info.IndexRegister);
        Assert.AreEqual(8L, info.Displacement);
        Assert.AreEqual(64, info.AddressSize);
    }

    [TestMethod]
    public void OperandFaultRaisedThroughTheProcessorIsDelivered()
    {
        using var g = GuestRunner.Long(a => { a.mov(rbx, 0x8000_0000_0000_0000); a.vmptrld(__qword_ptr[rbx]); a.hlt(); });
        g.Cpu.Hooks = new RecordingHooks
        {
            Handler = (Processor cpu, ref Intercept e) =>
            {
                if (e.Kind != InterceptKind.VirtualizationInstruction) return false;
                Assert.IsFalse(cpu.ReadOperand(8, out _));
                return true;
            },
        };
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector(), "a non-canonical operand raises #GP(0) (SDM vol. 3, 3.3.7.1)");
    }

    [TestMethod]
    public void WithoutAUnitVirtualizationInstructionsRaiseUd()
    {
        using var g = GuestRunner.Long(a => { a.vmcall(); a.hlt(); });
        Assert.AreEqual(ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void InterceptedPageFaultLeavesCr2AndReportsTheAddress()
    {
        using var g = GuestRunner.Long(a => { a.mov(rax, 0x4000_0000); a.mov(rax, __qword_ptr[rax]); a.hlt(); });
        g.Cpu.Cr2 = 0x77;
        var hooks = new RecordingHooks
        {
            Handler = (Processor cpu, ref Intercept e) =>
            {
                if (e.Kind != InterceptKind.Exception) return false;
                Assert.AreEqual(ExceptionVector.PF, e.Exception.Vector);
                Assert.AreEqual(0x4000_0000UL, e.Exception.FaultAddress);
                cpu.Rip = GuestRunner.CodeAddress + 100;
                return true;
            },
        };
        g.Code(64, GuestRunner.CodeAddress + 100, a => a.hlt());
        g.Cpu.Hooks = hooks;
        g.Run();
        Assert.AreEqual(0x77UL, g.Cpu.Cr2, "a VM exit for #PF does not write CR2 (SDM vol. 3, 27.1)");
        Assert.AreEqual(0UL, hooks.Calls.Single(c => c.Kind == InterceptKind.Exception).Exception.ErrorCode, "error code: not present, read, supervisor");
    }

    [TestMethod]
    public void DeclinedPageFaultWritesCr2OnDelivery()
    {
        using var g = GuestRunner.Long(a => { a.mov(rax, 0x4000_0008); a.mov(rax, __qword_ptr[rax]); a.hlt(); });
        g.Cpu.Hooks = new RecordingHooks();
        Assert.AreEqual(ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(0x4000_0008UL, g.Cpu.Cr2);
    }

    [TestMethod]
    public void FaultDuringSoftwareInterruptDeliveryCarriesTheEvent()
    {
        using var g = GuestRunner.Protected(a => { a.@int(0x40); a.hlt(); });
        g.SetIdtGate32(0x40, 0);
        var hooks = new RecordingHooks();
        g.Cpu.Hooks = hooks;
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector(), "an IDT entry that is no gate raises #GP with the IDT bit (SDM vol. 3, 6.12.1.1)");
        var gp = hooks.Calls.First(c => c.Kind == InterceptKind.Exception);
        Assert.AreEqual(ExceptionVector.GP, gp.Exception.Vector);
        Assert.AreEqual(0x40u * 8 + 2, gp.Exception.ErrorCode, "error code: IDT bit and the vector");
        Assert.IsNotNull(gp.EventInDelivery);
        Assert.AreEqual(0x40, gp.EventInDelivery.Value.Vector);
        Assert.AreEqual(EventType.SoftwareInterrupt, gp.EventInDelivery.Value.Type);
        Assert.AreEqual(2, gp.EventInDelivery.Value.InstructionLength);
        Assert.AreEqual(InterceptKind.SoftwareInterrupt, hooks.Calls[0].Kind);
        Assert.AreEqual(0x40, hooks.Calls[0].Vector);
    }

    [TestMethod]
    public void Int3IsOfferedAsASoftwareException()
    {
        using var g = GuestRunner.Protected(a => { a.int3(); a.hlt(); });
        var hooks = new RecordingHooks();
        g.Cpu.Hooks = hooks;
        Assert.AreEqual(ExceptionVector.BP, g.RunToVector());
        var bp = hooks.Calls.Single(c => c.Kind == InterceptKind.Exception).Exception;
        Assert.AreEqual(ExceptionVector.BP, bp.Vector);
        Assert.AreEqual(EventType.SoftwareException, bp.Type);
    }

    [TestMethod]
    public void InjectedHardwareExceptionPushesItsErrorCode()
    {
        using var g = GuestRunner.Protected(a => { a.nop(); a.hlt(); });
        g.Cpu.Rsp = 0x9000;
        g.Cpu.InjectEvent(ExceptionVector.GP, EventType.HardwareException, 0x1234, true, 0);
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x1234UL, g.Stack(0), "error code on top");
        Assert.AreEqual(GuestRunner.CodeAddress, g.Stack(1), "EIP of the guest instruction that had not run");
    }

    [TestMethod]
    public void InjectedSoftwareInterruptReturnsPastTheInstruction()
    {
        using var g = GuestRunner.Protected(a => { a.nop(); a.hlt(); });
        g.Cpu.Rsp = 0x9000;
        g.Cpu.InjectEvent(0x30, EventType.SoftwareInterrupt, 0, false, 2);
        Assert.AreEqual(0x30, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress + 2, g.Stack(0), "return EIP = RIP + the injected instruction length (SDM vol. 3, 27.6.1.1)");
    }

    [TestMethod]
    public void InjectedPageFaultDoesNotWriteCr2()
    {
        using var g = GuestRunner.Protected(a => a.hlt());
        g.Cpu.Cr2 = 0xABC000;
        g.Cpu.InjectEvent(ExceptionVector.PF, EventType.HardwareException, 2, true, 0);
        Assert.AreEqual(ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(0xABC000UL, g.Cpu.Cr2);
    }

    [TestMethod]
    public void SecondLevelTranslationRelocatesGuestPhysicalMemory()
    {
        using var g = new GuestRunner();
        const ulong offset = 0x400000;
        g.Code(32, GuestRunner.CodeAddress + offset, a => { a.mov(eax, __dword_ptr[0x3000]); a.hlt(); });
        g.Memory.Write(0x3000 + offset, 4, 0xCAFEF00D);
        g.Memory.Write(0x3000, 4, 0xBAD);
        g.StartProtected(GuestRunner.CodeAddress);
        g.Memory.WriteBytes(0x1000 + offset, ReadBytes(g, 0x1000, 0x100));
        g.Cpu.Hooks = new RecordingHooks();
        g.Cpu.SecondLevel = new OffsetTranslator(offset);
        g.Cpu.TranslationTag = 1;
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(0xCAFEF00DUL, g.Cpu.Rax & 0xFFFFFFFF);
    }

    [TestMethod]
    public void RefusedSecondLevelAccessAbandonsTheInstructionAndReachesTheUnit()
    {
        using var g = new GuestRunner();
        g.Code(32, GuestRunner.CodeAddress, a => { a.mov(ecx, 5); a.mov(__dword_ptr[0x3004], ecx); a.hlt(); });
        g.StartProtected(GuestRunner.CodeAddress);
        var translator = new OffsetTranslator(0) { RefusedPage = 0x3000 };
        var hooks = new RecordingHooks
        {
            Handler = (Processor _, ref Intercept e) => e.Kind == InterceptKind.SecondLevelFault,
        };
        g.Cpu.Hooks = hooks;
        g.Cpu.SecondLevel = translator;
        g.Cpu.Step();
        g.Cpu.Step();
        Assert.AreEqual(GuestRunner.CodeAddress + 5, g.Cpu.Rip, "the store did not complete");
        Assert.AreEqual(1UL, g.Cpu.InstructionsRetired);
        Assert.AreEqual(0UL, g.Memory.Read(0x3004, 4));
        Assert.AreEqual(InterceptKind.SecondLevelFault, hooks.Calls.Last().Kind);
        var refusal = translator.Refusals.Single();
        Assert.AreEqual(0x3004UL, refusal.GuestPhysical);
        Assert.AreEqual(GuestPhysicalAccess.Write | GuestPhysicalAccess.LinearValid, refusal.Access);
    }

    [TestMethod]
    public void GuestPagingStructuresAreReadThroughTheSecondLevel()
    {
        using var g = GuestRunner.Long(a => { a.mov(rax, __qword_ptr[0x5000]); a.hlt(); });
        var translator = new OffsetTranslator(0) { RefusedPage = 0x100000 };
        g.Cpu.Hooks = new RecordingHooks
        {
            Handler = (Processor cpu, ref Intercept e) =>
            {
                if (e.Kind != InterceptKind.SecondLevelFault) return false;
                cpu.RequestStop();
                return true;
            },
        };
        g.Cpu.SecondLevel = translator;
        g.Cpu.FlushTranslations();
        g.Cpu.Step();
        var refusal = translator.Refusals.First();
        Assert.IsTrue(refusal.Access.HasFlag(GuestPhysicalAccess.PagingStructure), "the PML4 entry read is a paging-structure access");
        Assert.AreEqual(GuestRunner.CodeAddress, refusal.Linear, "the first walk is the instruction fetch");
    }

    [TestMethod]
    public void TranslationTagsKeepEachAddressSpace()
    {
        using var g = new GuestRunner();
        g.Code(32, GuestRunner.CodeAddress, a => { a.mov(eax, __dword_ptr[0x3000]); a.hlt(); });
        g.Code(32, 0x20000 + 0x400000, a => { a.mov(eax, __dword_ptr[0x5000]); a.hlt(); });
        g.Memory.Write(0x3000, 4, 1);
        g.Memory.Write(0x405000, 4, 2);
        g.StartProtected(GuestRunner.CodeAddress);
        var translator = new OffsetTranslator(0);
        g.Cpu.Hooks = new RecordingHooks();
        g.Cpu.SecondLevel = translator;
        // The last two runs give the translator an offset into empty memory: only the translations each tag kept give 1 and 2.
        foreach (var (tag, rip, offset, expected) in new[]
                 {
                     (1, GuestRunner.CodeAddress, 0UL, 1UL), (2, 0x20000UL, 0x400000UL, 2UL),
                     (1, GuestRunner.CodeAddress, 0x800000UL, 1UL), (2, 0x20000UL, 0x800000UL, 2UL),
                 })
        {
            g.Cpu.TranslationTag = tag;
            translator.Offset = offset;
            g.Cpu.Rip = rip;
            g.Cpu.Activity = ActivityState.Active;
            Assert.AreEqual(StopReason.Halted, g.Run(1000), $"tag {tag}");
            Assert.AreEqual(expected, g.Cpu.Rax & 0xFFFFFFFF, $"tag {tag}");
        }
        g.Cpu.FlushTranslationTag(1);
        g.Cpu.TranslationTag = 1;
        g.Cpu.Rip = GuestRunner.CodeAddress;
        g.Cpu.Activity = ActivityState.Active;
        g.Run(1000);
        Assert.AreNotEqual(1UL, g.Cpu.Rax & 0xFFFFFFFF, "after flushing tag 1 its code and data come through the translator again");
    }

    [TestMethod]
    public void EventDeadlineCallsTheUnitAtThatCycle()
    {
        using var g = GuestRunner.Protected(a =>
        {
            var loop = a.CreateLabel();
            a.Label(ref loop);
            a.inc(eax);
            a.jmp(loop);
        });
        ulong at = 0;
        g.Cpu.Hooks = new RecordingHooks
        {
            Handler = (Processor cpu, ref Intercept e) =>
            {
                if (e.Kind != InterceptKind.EventWindow || cpu.Cycles < cpu.EventDeadline) return false;
                at = cpu.Cycles;
                cpu.EventDeadline = ulong.MaxValue;
                cpu.RequestStop();
                return true;
            },
        };
        var start = g.Cpu.Cycles;
        g.Cpu.EventDeadline = start + 1001;
        Assert.AreEqual(StopReason.StopRequested, g.Run(100_000));
        Assert.AreEqual(start + 1001, at);
    }

    [TestMethod]
    public void DeadlineWakesAHaltedProcessor()
    {
        using var g = GuestRunner.Protected(a => a.hlt());
        var calls = 0;
        g.Cpu.Hooks = new RecordingHooks
        {
            Handler = (Processor cpu, ref Intercept e) =>
            {
                if (e.Kind != InterceptKind.EventWindow || cpu.Cycles < cpu.EventDeadline) return false;
                calls++;
                cpu.EventDeadline = ulong.MaxValue;
                return false;
            },
        };
        g.Cpu.Run(g.Cpu.Cycles + 10);
        g.Cpu.EventDeadline = g.Cpu.Cycles + 500;
        g.Cpu.Run(g.Cpu.Cycles + 1000);
        Assert.AreEqual(1, calls);
    }

    [TestMethod]
    public void InterruptWithIfClearIsOfferedWhenTheFlagIsIgnored()
    {
        using var g = GuestRunner.Protected(a => { a.cli(); a.nop(); a.hlt(); });
        var source = new TestInterruptSource { Vector = 0x20 };
        g.Cpu.InterruptSource = source;
        var hooks = new RecordingHooks();
        g.Cpu.Hooks = hooks;
        g.Run(100);
        Assert.IsFalse(hooks.Kinds.Contains(InterceptKind.ExternalInterrupt), "IF=0 blocks INTR");
        g.Cpu.InterruptFlagIgnored = true;
        g.Run(100);
        Assert.IsTrue(hooks.Kinds.Contains(InterceptKind.ExternalInterrupt));
        Assert.AreEqual(0, source.Acknowledged, "declined with IF=0: nothing is delivered");
    }

    [TestMethod]
    public void ClearGlobalInterruptFlagHoldsInterrupts()
    {
        using var g = GuestRunner.Protected(a => { a.sti(); a.nop(); a.nop(); a.hlt(); });
        var source = new TestInterruptSource { Vector = 0x21 };
        g.Cpu.InterruptSource = source;
        g.Cpu.GlobalInterruptFlag = false;
        g.Run(100);
        Assert.AreEqual(0, source.Acknowledged);
        g.Cpu.GlobalInterruptFlag = true;
        Assert.AreEqual(0x21, g.RunToVector());
    }

    [TestMethod]
    public void UnknownMsrsGoToTheUnit()
    {
        using var g = GuestRunner.Protected(a => { a.mov(ecx, 0x480); a.rdmsr(); a.mov(esi, eax); a.mov(edi, edx); a.mov(ecx, 0xC0010117); a.mov(eax, 0x5000); a.xor(edx, edx); a.wrmsr(); a.hlt(); });
        var hooks = new RecordingHooks();
        hooks.Msrs[0x480] = 0x00DA0400_00000001;
        hooks.Msrs[0xC0010117] = 0;
        g.Cpu.Hooks = hooks;
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(0x00000001UL, g.Cpu.Rsi & 0xFFFFFFFF);
        Assert.AreEqual(0x00DA0400UL, g.Cpu.Rdi & 0xFFFFFFFF);
        Assert.AreEqual(0x5000UL, hooks.Msrs[0xC0010117]);
    }

    [TestMethod]
    public void CrWriteValueCanBeChangedByTheUnit()
    {
        using var g = GuestRunner.Protected(a => { a.mov(eax, cr0); a.or(eax, 8); a.mov(cr0, eax); a.hlt(); });
        g.Cpu.Hooks = new RecordingHooks
        {
            Handler = (Processor cpu, ref Intercept e) =>
            {
                if (e.Kind == InterceptKind.CrWrite && e.ControlRegisterWrite.Register == 0)
                    e.ControlRegisterWrite = e.ControlRegisterWrite with { Value = e.ControlRegisterWrite.Value & ~8UL };
                return false;
            },
        };
        g.Run();
        Assert.AreEqual(0UL, g.Cpu.Cr0 & 8, "TS kept clear by the unit");
    }

    [TestMethod]
    public void InterruptShadowLoadedByTheUnitBlocksOneInstruction()
    {
        using var g = GuestRunner.Protected(a => { a.nop(); a.nop(); a.hlt(); });
        var source = new TestInterruptSource { Vector = 0x22 };
        g.Cpu.InterruptSource = source;
        g.Cpu.Flags |= Rflags.IF;
        g.Cpu.SetInterruptShadow(bySti: true, byMovSs: false);
        Assert.IsTrue(g.Cpu.BlockingBySti);
        g.Cpu.Step();
        Assert.AreEqual(0, source.Acknowledged, "blocked for the first instruction");
        Assert.AreEqual(GuestRunner.CodeAddress + 1, g.Cpu.Rip);
        Assert.AreEqual(0x22, g.RunToVector());
    }

    [TestMethod]
    public void MonitorChecksEcxAndMwaitContinues()
    {
        using var g = GuestRunner.Protected(a => { a.mov(eax, 0x3000); a.xor(ecx, ecx); a.xor(edx, edx); a.monitor(); a.mwait(); a.mov(ecx, 1); a.monitor(); a.hlt(); });
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector(), "MONITOR with ECX ≠ 0 raises #GP(0) (SDM vol. 2, MONITOR)");
        Assert.AreEqual(GuestRunner.CodeAddress + 20, g.Stack(1), "the first MONITOR and the MWAIT completed; the second MONITOR faulted");
    }

    private static byte[] ReadBytes(GuestRunner g, ulong address, int count)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++) bytes[i] = (byte)g.Memory.Read(address + (ulong)i, 1);
        return bytes;
    }
}
