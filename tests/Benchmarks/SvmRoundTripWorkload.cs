using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Svm;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// A guest that loops on CPUID with the CPUID intercept set, under an SVM unit: each round trip is
/// one #VMEXIT, the host's advance of RIP to nRIP, and one VMRUN. The host is either a kernel model
/// calling <see cref="SvmUnit.Vmrun"/> from C# (<see cref="Host.Api"/>) or 64-bit host code
/// executing VMRUN in a loop (<see cref="Host.GuestCode"/>).
/// </summary>
public sealed class SvmRoundTripWorkload : IDisposable
{
    public enum Host { Api, GuestCode }

    private const ulong Gdt = 0x1000, HostCode = 0x10000, GuestCode = 0x20000, Vmcb = 0x40000, Hsave = 0x41000, Pml4 = 0x100000;
    private readonly PhysicalMemory _memory = new(16 << 20);
    private readonly Processor _cpu;
    private readonly SvmUnit _unit;
    private readonly Host _host;

    private sealed class NullBus : IIoBus
    {
        public uint Read(ushort port, int size) => 0xFFFFFFFF;
        public void Write(ushort port, int size, uint value) { }
    }

    public SvmRoundTripWorkload(Host host)
    {
        _host = host;
        _cpu = new Processor(_memory, new NullBus());
        _unit = new SvmUnit(_cpu);
        _cpu.HostOwned = host == Host.Api;
        var m = _memory;
        m.Write(Gdt + 0x08, 8, 0x00AF9B000000FFFFUL);
        m.Write(Gdt + 0x10, 8, 0x00CF93000000FFFFUL);
        m.Write(Gdt + 0x18, 8, 0x00CF9B000000FFFFUL);
        m.Write(Pml4, 8, (Pml4 + 0x1000) | 7);
        m.Write(Pml4 + 0x1000, 8, (Pml4 + 0x2000) | 7);
        for (ulong i = 0; i < 512; i++) m.Write(Pml4 + 0x2000 + i * 8, 8, (i << 21) | 0x87);
        _cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x1F };
        _cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, Pml4, Cr4.PAE, Efer.LME | Efer.SVME);
        _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS })
            _cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        _cpu.Rsp = 0x80000;
        _cpu.TryWriteMsr(SvmMsr.VmHsavePa, Hsave);

        Write(GuestCode, Assemble(32, GuestCode, a => { var l = a.CreateLabel(); a.Label(ref l); a.cpuid(); a.jmp(l); }));
        Write(HostCode, Assemble(64, HostCode, a =>
        {
            var top = a.CreateLabel();
            a.mov(rsi, Vmcb);
            a.Label(ref top);
            a.mov(rax, rsi);
            a.vmrun();
            a.mov(rbx, __qword_ptr[rsi + VmcbLayout.NRip]);
            a.mov(__qword_ptr[rsi + VmcbLayout.Rip], rbx);
            a.dec(rcx);
            a.jnz(top);
            a.hlt();
        }));

        m.Write(Vmcb + VmcbLayout.InterceptMisc1, 4, 1UL << 18);
        m.Write(Vmcb + VmcbLayout.InterceptMisc2, 4, 1);
        m.Write(Vmcb + VmcbLayout.GuestAsid, 4, 1);
        m.Write(Vmcb + VmcbLayout.Efer, 8, Efer.SVME);
        m.Write(Vmcb + VmcbLayout.Cr0, 8, Cr0.PE | Cr0.ET);
        Segment(VmcbLayout.Cs, 0x18, 0xC9B);
        foreach (var s in new[] { VmcbLayout.Ds, VmcbLayout.Es, VmcbLayout.Ss }) Segment(s, 0x10, 0xC93);
        m.Write(Vmcb + VmcbLayout.Gdtr + 4, 4, 0x1F);
        m.Write(Vmcb + VmcbLayout.Gdtr + 8, 8, Gdt);
        m.Write(Vmcb + VmcbLayout.Rflags, 8, 2);
        m.Write(Vmcb + VmcbLayout.Rip, 8, GuestCode);
        m.Write(Vmcb + VmcbLayout.Rsp, 8, 0x70000);
        m.Write(Vmcb + VmcbLayout.Dr6, 8, 0xFFFF0FF0);
        m.Write(Vmcb + VmcbLayout.Dr7, 8, 0x400);
        // Every group but the guest's RIP is unchanged between runs, as a VMM would mark it.
        m.Write(Vmcb + VmcbLayout.VmcbClean, 4, 0x3FF);
    }

    private void Segment(int field, ushort selector, ushort attrib)
    {
        _memory.Write(Vmcb + (ulong)field, 2, selector);
        _memory.Write(Vmcb + (ulong)field + 2, 2, attrib);
        _memory.Write(Vmcb + (ulong)field + 4, 4, 0xFFFFFFFF);
    }

    private void Write(ulong address, byte[] code) => _memory.WriteBytes(address, code);

    private static byte[] Assemble(int bitness, ulong address, Action<Assembler> build)
    {
        var a = new Assembler(bitness);
        build(a);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }

    /// <summary>Runs <paramref name="roundTrips"/> #VMEXIT + VMRUN round trips; returns the exits seen.</summary>
    public ulong Run(ulong roundTrips)
    {
        if (_host == Host.Api)
        {
            for (ulong i = 0; i < roundTrips; i++)
            {
                if (_unit.Vmrun(Vmcb) != SvmResult.Success) throw new InvalidOperationException(_unit.LastConsistencyFailure.ToString());
                _cpu.Run(_cpu.Cycles + 100_000);
                _memory.Write(Vmcb + VmcbLayout.Rip, 8, _memory.Read(Vmcb + VmcbLayout.NRip, 8));
            }
            return roundTrips;
        }
        _cpu.Rip = HostCode;
        _cpu.Rcx = roundTrips;
        _cpu.Activity = ActivityState.Active;
        var stop = _cpu.Run(_cpu.Cycles + roundTrips * 100_000);
        if (_cpu.Rcx != 0) throw new InvalidOperationException($"host loop stopped early ({stop}) at RIP {_cpu.Rip:x}, exit {_unit.LastExitCode:x}, rcx {_cpu.Rcx}, pending {_cpu.PendingException}");
        return roundTrips;
    }

    public ulong LastExitCode => _unit.LastExitCode;

    public void Dispose()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }
}
