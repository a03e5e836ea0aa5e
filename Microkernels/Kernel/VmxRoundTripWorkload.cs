using Sim.Cpu;
using Sim.Vmx;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// A 64-bit guest that executes CPUID in a loop under a VMX unit, with VPID; the host is C# code
/// that handles each CPUID exit the way a kernel model does: VMREAD the guest RIP and the
/// instruction length, VMWRITE the guest RIP past it, VMRESUME. One round trip is one VM exit and
/// one VM entry.
/// </summary>
public sealed class VmxRoundTripWorkload : IDisposable
{
    /// <summary>top: xor eax, eax; cpuid; jmp top.</summary>
    private static readonly byte[] CpuidLoop = [0x31, 0xC0, 0x0F, 0xA2, 0xEB, 0xFA];

    private readonly VmxHostMachine _machine = new();
    private readonly Processor _cpu;
    private readonly VmxUnit _unit;

    public VmxRoundTripWorkload()
    {
        _cpu = _machine.Cpu;
        _unit = _machine.Unit;
        _machine.Memory.WriteBytes(VmxHostMachine.GuestCode, CpuidLoop);
        Check(_machine.EnterVmxOperation());
        _machine.ChangeControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.ActivateSecondaryControls);
        _machine.WriteField(VmcsField.SecondaryProcessorBasedVmExecutionControls, SecondaryProcessorBasedControls.EnableVpid);
        _machine.WriteField(VmcsField.VirtualProcessorIdentifier, 1);
        Check(_unit.Vmlaunch());
    }

    private static void Check(VmxResult r)
    {
        if (!r.Succeeded) throw new VmxHostException($"the round-trip workload's set-up failed: {r}");
    }

    public VmxUnit Unit => _unit;

    /// <summary>Runs <paramref name="count"/> CPUID exit/entry round trips; returns the exits seen.</summary>
    public ulong RoundTrips(int count)
    {
        var start = _unit.ExitCount;
        for (var i = 0; i < count; i++)
        {
            if (_cpu.Run(ulong.MaxValue) != StopReason.VmExit) throw new InvalidOperationException($"the guest stopped without a VM exit at RIP {_cpu.Rip:x}");
            _unit.Vmread(VmcsField.GuestRip, out var rip);
            _unit.Vmread(VmcsField.VmExitInstructionLength, out var length);
            _unit.Vmwrite(VmcsField.GuestRip, rip + length);
            _unit.Vmresume();
        }
        return _unit.ExitCount - start;
    }

    public void Dispose() => _machine.Dispose();
}
