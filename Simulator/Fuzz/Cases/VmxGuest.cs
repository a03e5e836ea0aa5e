using Iced.Intel;
using Sim.Images;
using Sim.Vmx;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Fuzz.Cases;

/// <summary>
/// A VT-x hypervisor in 64-bit guest code: VMXON, a VMCS with a valid baseline (a 64-bit guest in the
/// host's environment, or an unrestricted real-mode guest under EPT) plus random VMWRITEs, VMLAUNCH.
/// The nested guest runs random code; every VM exit resumes it at a random point after two more
/// random VMWRITEs and a few random VMX instructions; a failed entry or a host fault starts over with
/// a fresh VMCS.
/// </summary>
internal static class VmxGuest
{
    private const ulong VmxonRegion = FuzzLayout.VirtualizationArea;
    private const ulong VmcsRegion = VmxonRegion + 0x1000;
    private const ulong SecondVmcs = VmxonRegion + 0x2000;
    private const ulong Pointers = FuzzLayout.Tables;
    private const ulong BaselineTable = FuzzLayout.Tables + 0x100;
    private const ulong MutationTable = FuzzLayout.Tables + 0x1000;
    private const int Mutations = 256;

    private static readonly VmcsField[] Fields = Enum.GetValues<VmcsField>();

    public static FuzzProgram Generate(Random rng)
    {
        var b = new GuestBuilder(rng);
        var real = rng.Next(3) == 0;
        var ept = real || rng.Next(2) == 0;
        b.AddRandomCode(real ? 16 : 64, linear: !real, rng.Next(0x400, 0x2000));
        b.AddGdt(tss64: true);
        b.AddIdt(FuzzLayout.Idt, long64: true, FuzzLayout.Handler64, FuzzLayout.Code64, allow16: false);
        b.AddIdt(FuzzLayout.HostIdt, long64: true, FuzzLayout.HostFaultHandler, FuzzLayout.Code64, allow16: false);
        b.AddTss(tss64: true);
        b.AddDescriptorTableRegisters(16);
        b.AddIvt();
        var pml4 = b.AddLongModePageTables(user: false);
        var eptp = ept ? b.AddEpt(FuzzLayout.NestedTables) : 0;
        b.Add(FuzzLayout.Handler64, 64, a => ModeGuest.Handler64(a, FuzzLayout.Code64, false, b.RandomFlags()));
        b.Add(FuzzLayout.Handler16, 16, a => ModeGuest.Handler16(a, b.RandomFlags()));
        foreach (var region in new[] { VmxonRegion, VmcsRegion, SecondVmcs }) b.Add(region, BitConverter.GetBytes(VmxCapability.VmcsRevisionId));
        b.AddQwords(Pointers, [VmxonRegion, VmcsRegion, SecondVmcs, rng.Next(2) == 0 ? (ulong)rng.NextInt64() : (ulong)rng.Next(0x400) << 12]);

        var baseline = Baseline(pml4, real, eptp, rng);
        var table = new List<ulong>();
        foreach (var (field, value) in baseline)
        {
            table.Add((ulong)field);
            table.Add(value);
        }
        for (var n = rng.Next(3); n > 0; n--) table.AddRange(Mutation(rng, baseline));
        table.Add(ulong.MaxValue);
        b.AddQwords(BaselineTable, table.ToArray());
        var mutations = new List<ulong>();
        for (var i = 0; i < Mutations; i++) mutations.AddRange(rng.Next(3) == 0 ? [(ulong)VmcsField.GuestRflags, 2] : Mutation(rng, baseline));
        b.AddQwords(MutationTable, mutations.ToArray());

        b.Add(FuzzLayout.Prolog, 64, a => Prolog(a, pml4));
        b.Add(Restart, 64, HostRestart);
        b.Add(ExitHandlerAddress, 64, a => ExitHandler(a, rng));
        b.Add(FuzzLayout.HostFaultHandler, 64, a => JumpTo(a, Restart));
        return new FuzzProgram
        {
            Description = $"Vmx, {(real ? "unrestricted real-mode" : "64-bit")} guest{(ept ? " with EPT" : "")}",
            MemoryBytes = FuzzLayout.DefaultMemory,
            Vendor = Sim.Cpu.CpuVendor.Intel,
            Image = new BootImage { Chunks = b.Chunks, Entry = new LongModeEntry(FuzzLayout.Prolog, 0, 0), Description = "fuzz Vmx" },
        };
    }

    private static ulong[] Mutation(Random rng, IReadOnlyDictionary<VmcsField, ulong> baseline)
    {
        var field = rng.Next(5) == 0 ? (VmcsField)(uint)(rng.Next() & 0x7FFF) : Fields[rng.Next(Fields.Length)];
        var old = baseline.GetValueOrDefault(field);
        ulong value = rng.Next(5) switch
        {
            0 or 1 => old ^ (1UL << rng.Next(rng.Next(2) == 0 ? 32 : 64)),
            2 => RandomCode.Value(rng),
            3 => 0UL,
            _ => (ulong)rng.Next(0x100),
        };
        return [(ulong)field, value];
    }

    private static SortedDictionary<VmcsField, ulong> Baseline(ulong pml4, bool real, ulong eptp, Random rng)
    {
        const ulong hostCr0 = 0x8000_0031, hostCr4 = 0x2020;
        var v = new SortedDictionary<VmcsField, ulong>
        {
            [VmcsField.PinBasedVmExecutionControls] = PinBasedControls.Default1 | (rng.Next(4) == 0 ? PinBasedControls.ActivateVmxPreemptionTimer : 0),
            [VmcsField.PrimaryProcessorBasedVmExecutionControls] = ProcessorBasedControls.TrueDefault1 | ProcessorBasedControls.HltExiting
                | (eptp != 0 ? ProcessorBasedControls.ActivateSecondaryControls : 0),
            [VmcsField.VmExitControls] = VmExitControls.TrueDefault1 | VmExitControls.HostAddressSpaceSize,
            [VmcsField.VmEntryControls] = VmEntryControls.TrueDefault1 | (real ? 0 : VmEntryControls.Ia32eModeGuest),
            [VmcsField.VmcsLinkPointer] = ulong.MaxValue,
            [VmcsField.VmxPreemptionTimerValue] = (ulong)rng.Next(0x1000),
            [VmcsField.HostCr0] = hostCr0,
            [VmcsField.HostCr3] = pml4,
            [VmcsField.HostCr4] = hostCr4,
            [VmcsField.HostCsSelector] = FuzzLayout.Code64,
            [VmcsField.HostSsSelector] = FuzzLayout.Data32,
            [VmcsField.HostDsSelector] = FuzzLayout.Data32,
            [VmcsField.HostEsSelector] = FuzzLayout.Data32,
            [VmcsField.HostFsSelector] = FuzzLayout.Data32,
            [VmcsField.HostGsSelector] = FuzzLayout.Data32,
            [VmcsField.HostTrSelector] = FuzzLayout.TssSelector,
            [VmcsField.HostTrBase] = FuzzLayout.Tss,
            [VmcsField.HostGdtrBase] = FuzzLayout.Gdt,
            [VmcsField.HostIdtrBase] = FuzzLayout.HostIdt,
            [VmcsField.HostRip] = ExitHandlerAddress,
            [VmcsField.HostRsp] = FuzzLayout.HostStack,
            [VmcsField.GuestDr7] = 0x400,
            [VmcsField.GuestRflags] = 2,
            [VmcsField.GuestIa32Pat] = 0x0007_0406_0007_0406UL,
            [VmcsField.GuestLdtrAccessRights] = 0x10000,
            [VmcsField.ExceptionBitmap] = rng.Next(3) == 0 ? (ulong)rng.Next() : 0,
        };
        if (eptp != 0)
        {
            v[VmcsField.SecondaryProcessorBasedVmExecutionControls] = SecondaryProcessorBasedControls.EnableEpt
                | (real ? SecondaryProcessorBasedControls.UnrestrictedGuest : 0) | (rng.Next(2) == 0 ? SecondaryProcessorBasedControls.EnableVpid : 0);
            v[VmcsField.EptPointer] = eptp;
            v[VmcsField.VirtualProcessorIdentifier] = 1;
        }
        if (real)
        {
            v[VmcsField.GuestCr0] = 0x30;
            v[VmcsField.GuestCr4] = 0x2000;
            v[VmcsField.GuestCsSelector] = FuzzLayout.CodeSegment;
            v[VmcsField.GuestCsBase] = FuzzLayout.Code;
            v[VmcsField.GuestCsLimit] = 0xFFFF;
            v[VmcsField.GuestCsAccessRights] = 0x9B;
            foreach (var s in new uint[] { 0, 2, 3, 4, 5 })
            {
                v[(VmcsField)((uint)VmcsField.GuestEsLimit + s * 2)] = 0xFFFF;
                v[(VmcsField)((uint)VmcsField.GuestEsAccessRights + s * 2)] = 0x93;
            }
            v[VmcsField.GuestTrLimit] = 0xFFFF;
            v[VmcsField.GuestTrAccessRights] = 0x8B;
            v[VmcsField.GuestGdtrLimit] = 0xFFFF;
            v[VmcsField.GuestIdtrLimit] = 0x3FF;
            v[VmcsField.GuestRsp] = FuzzLayout.RealModeStack;
            v[VmcsField.GuestRip] = 0;
        }
        else
        {
            v[VmcsField.GuestCr0] = hostCr0;
            v[VmcsField.GuestCr3] = pml4;
            v[VmcsField.GuestCr4] = hostCr4;
            v[VmcsField.GuestCsSelector] = FuzzLayout.Code64;
            v[VmcsField.GuestCsLimit] = 0xFFFF_FFFF;
            v[VmcsField.GuestCsAccessRights] = 0xA09B;
            foreach (var s in new uint[] { 0, 2, 3, 4, 5 })
            {
                v[(VmcsField)((uint)VmcsField.GuestEsSelector + s * 2)] = FuzzLayout.Data32;
                v[(VmcsField)((uint)VmcsField.GuestEsLimit + s * 2)] = 0xFFFF_FFFF;
                v[(VmcsField)((uint)VmcsField.GuestEsAccessRights + s * 2)] = 0xC093;
            }
            v[VmcsField.GuestTrSelector] = FuzzLayout.TssSelector;
            v[VmcsField.GuestTrBase] = FuzzLayout.Tss;
            v[VmcsField.GuestTrLimit] = FuzzLayout.TssIoBitmapOffset + 0x2000;
            v[VmcsField.GuestTrAccessRights] = 0x8B;
            v[VmcsField.GuestGdtrBase] = FuzzLayout.Gdt;
            v[VmcsField.GuestGdtrLimit] = FuzzLayout.GdtEntries * 8 - 1;
            v[VmcsField.GuestIdtrBase] = FuzzLayout.Idt;
            v[VmcsField.GuestIdtrLimit] = 0xFFF;
            v[VmcsField.GuestRsp] = FuzzLayout.KernelStack - 0x2000;
            v[VmcsField.GuestRip] = FuzzLayout.Code;
            v[VmcsField.GuestIa32Efer] = 0x500;
        }
        return v;
    }

    private const ulong Restart = FuzzLayout.Prolog + 0x100;
    private const ulong ExitHandlerAddress = FuzzLayout.Prolog + 0x400;

    private static void Prolog(Assembler a, ulong pml4)
    {
        a.mov(rsp, FuzzLayout.HostStack);
        a.lgdt(__[FuzzLayout.Gdtr]);
        a.lidt(__[FuzzLayout.HostIdtr]);
        a.mov(rax, pml4);
        a.mov(cr3, rax);
        a.mov(rax, 0x2020UL);
        a.mov(cr4, rax);
        a.mov(rax, 0x8000_0031UL);
        a.mov(cr0, rax);
        a.mov(ax, FuzzLayout.TssSelector);
        a.ltr(ax);
        a.push((int)FuzzLayout.Code64);
        a.push((int)Restart);
        a.db(0x48, 0xCB); // RETFQ
    }

    /// <summary>Enters VMX operation and launches a fresh VMCS; the host fault handler comes here too.</summary>
    private static void HostRestart(Assembler a)
    {
        var featureLocked = a.CreateLabel();
        a.mov(rsp, FuzzLayout.HostStack);
        a.mov(ecx, 0x3A);
        a.rdmsr();
        a.test(al, 1);
        a.jnz(featureLocked);
        a.mov(eax, 5);
        a.xor(edx, edx);
        a.wrmsr();
        a.Label(ref featureLocked);
        a.vmxon(__qword_ptr[Pointers]);
        a.vmclear(__qword_ptr[Pointers + 8]);
        a.vmptrld(__qword_ptr[Pointers + 8]);
        ApplyTable(a, BaselineTable);
        a.vmlaunch();
        a.mov(rax, ExitHandlerAddress);
        a.jmp(rax);
    }

    /// <summary>A jump to <paramref name="target"/>, for the host's fault handler.</summary>
    public static void JumpTo(Assembler a, ulong target)
    {
        a.mov(rax, target);
        a.jmp(rax);
    }

    private static void ApplyTable(Assembler a, ulong table)
    {
        var next = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(rsi, table);
        a.Label(ref next);
        a.mov(rax, __qword_ptr[rsi]);
        a.cmp(rax, -1);
        a.je(done);
        a.mov(rbx, __qword_ptr[rsi + 8]);
        a.vmwrite(rax, rbx);
        a.add(rsi, 16);
        a.jmp(next);
        a.Label(ref done);
    }

    private static void ExitHandler(Assembler a, Random rng)
    {
        a.mov(rsp, FuzzLayout.HostStack);
        a.inc(__dword_ptr[FuzzLayout.Counter]);
        a.mov(eax, __dword_ptr[FuzzLayout.Counter]);
        a.and(eax, FuzzLayout.ResumePoints - 1);
        a.mov(rbx, __qword_ptr[rax * 8 + (int)FuzzLayout.ResumeTable]);
        a.mov(eax, (uint)VmcsField.GuestRip);
        a.vmwrite(rax, rbx);
        a.mov(eax, __dword_ptr[FuzzLayout.Counter]);
        a.and(eax, Mutations / 2 - 1);
        a.shl(eax, 5);
        a.lea(rsi, __[rax + (int)MutationTable]);
        for (var i = 0; i < 2; i++)
        {
            a.mov(rax, __qword_ptr[rsi + i * 16]);
            a.mov(rbx, __qword_ptr[rsi + i * 16 + 8]);
            a.vmwrite(rax, rbx);
        }
        for (var n = rng.Next(4); n > 0; n--) RandomVmxInstruction(a, rng);
        a.vmresume();
        a.vmlaunch();
        JumpTo(a, Restart);
    }

    private static void RandomVmxInstruction(Assembler a, Random rng)
    {
        switch (rng.Next(9))
        {
            case 0:
                a.mov(ebx, (uint)Fields[rng.Next(Fields.Length)]);
                a.vmread(rax, rbx);
                break;
            case 1:
                a.vmptrst(__qword_ptr[FuzzLayout.Data]);
                break;
            case 2:
                a.mov(eax, rng.Next(5));
                a.invept(rax, __[FuzzLayout.Data + (ulong)rng.Next(0x100)]);
                break;
            case 3:
                a.mov(eax, rng.Next(5));
                a.invvpid(rax, __[FuzzLayout.Data + (ulong)rng.Next(0x100)]);
                break;
            case 4:
                a.vmclear(__qword_ptr[Pointers + (ulong)(rng.Next(2) == 0 ? 16 : 24)]);
                break;
            case 5:
                a.vmptrld(__qword_ptr[Pointers + (ulong)(rng.Next(3) == 0 ? 16 : 8)]);
                break;
            case 6:
                if (rng.Next(4) == 0) a.vmxoff();
                else a.vmxon(__qword_ptr[Pointers]);
                break;
            case 7:
                a.mov(ebx, (uint)Fields[rng.Next(Fields.Length)]);
                a.mov(rax, RandomCode.Value(rng));
                a.vmwrite(rbx, rax);
                break;
            default:
                a.vmcall();
                break;
        }
    }
}
