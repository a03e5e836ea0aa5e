using Iced.Intel;
using Sim.Cpu;
using Sim.Svm;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// A guest that loops on CPUID with the CPUID intercept set, under an SVM unit: each round trip is
/// one #VMEXIT, the host's advance of RIP to nRIP, and one VMRUN. The host is either a kernel model
/// calling <see cref="SvmUnit.Vmrun"/> from C# (<see cref="Host.Api"/>) or 64-bit host code
/// executing VMRUN in a loop (<see cref="Host.GuestCode"/>).
/// </summary>
public sealed class SvmRoundTripWorkload : IDisposable
{
    public enum Host { Api, GuestCode }

    /// <summary>top: cpuid; jmp top (32-bit).</summary>
    private static readonly byte[] CpuidLoop = [0x0F, 0xA2, 0xEB, 0xFC];

    private const ulong Vmcb = SvmHostMachine.VmcbPa;

    private readonly SvmHostMachine _machine = new();
    private readonly Processor _cpu;
    private readonly SvmUnit _unit;
    private readonly Host _host;

    public SvmRoundTripWorkload(Host host)
    {
        _host = host;
        _cpu = _machine.Cpu;
        _unit = _machine.Unit;
        _cpu.HostOwned = host == Host.Api;
        var memory = _machine.Memory;
        memory.WriteBytes(SvmHostMachine.GuestCode, CpuidLoop);
        memory.WriteBytes(SvmHostMachine.HostCode, HostLoop());
        var v = _machine.Vmcb;
        v.Intercept(SvmIntercept.Cpuid);
        // Every group but the guest's RIP is unchanged between runs, as a VMM would mark it.
        v.Write(VmcbLayout.VmcbClean, 4, 0x3FF);
    }

    /// <summary>VMRUN of the VMCB, RIP advanced to nRIP, RCX times, then HLT.</summary>
    private static byte[] HostLoop()
    {
        var a = new Assembler(64);
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
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), SvmHostMachine.HostCode);
        return stream.ToArray();
    }

    /// <summary>Runs <paramref name="roundTrips"/> #VMEXIT + VMRUN round trips; returns the exits seen.</summary>
    public ulong Run(ulong roundTrips)
    {
        var memory = _machine.Memory;
        if (_host == Host.Api)
        {
            for (ulong i = 0; i < roundTrips; i++)
            {
                if (_unit.Vmrun(Vmcb) != SvmResult.Success) throw new InvalidOperationException(_unit.LastConsistencyFailure.ToString());
                _cpu.Run(_cpu.Cycles + 100_000);
                memory.Write(Vmcb + VmcbLayout.Rip, 8, memory.Read(Vmcb + VmcbLayout.NRip, 8));
            }
            return roundTrips;
        }
        _cpu.Rip = SvmHostMachine.HostCode;
        _cpu.Rcx = roundTrips;
        _cpu.Activity = ActivityState.Active;
        var stop = _cpu.Run(_cpu.Cycles + roundTrips * 100_000);
        if (_cpu.Rcx != 0) throw new InvalidOperationException($"host loop stopped early ({stop}) at RIP {_cpu.Rip:x}, exit {_unit.LastExitCode:x}, rcx {_cpu.Rcx}, pending {_cpu.PendingException}");
        return roundTrips;
    }

    public ulong LastExitCode => _unit.LastExitCode;

    public void Dispose() => _machine.Dispose();
}
