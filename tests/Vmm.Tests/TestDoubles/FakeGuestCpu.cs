using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests.TestDoubles;

/// <summary>
/// Test double of a vCPU's hardware: just enough real-mode execution for the VMM test's guest page
/// (NOP, HLT, short JMP, RDTSCP), fetching through the session's guest-physical regions. A HLT exit
/// leaves IP at the HLT, a missing page gives a nested-paging exit with the fetch address, and a
/// <c>JMP $</c> spins until recalled.
/// </summary>
public sealed class FakeGuestCpu(FakeMachine machine, FakeVmSession session, VirtualizationKind kind)
{
    private int _generation;

    public ulong Ip;
    public ulong Cx;
    public ulong Dx;
    public ulong TscAux;
    public ulong TscOffset;
    public ulong CsBase;

    public bool Running { get; private set; }

    public bool Destroyed { get; set; }

    /// <summary>Called when the vCPU leaves the guest: exit reason and guest-physical address (for memory exits).</summary>
    public Action<uint, ulong> OnExit { get; set; } = (_, _) => { };

    public void Start() => machine.Schedule(0, null, () => Exit(VmExitReason.Startup, 0));

    public void Resume()
    {
        if (Destroyed)
            return;
        Running = true;
        int generation = ++_generation;
        machine.Schedule(1, null, () => Execute(generation));
    }

    /// <summary>Stops a running vCPU; false if it was not running.</summary>
    public bool Stop()
    {
        if (!Running)
            return false;
        Running = false;
        _generation++;
        return true;
    }

    private void Execute(int generation)
    {
        if (generation != _generation || !Running)
            return;
        Span<byte> bytes = stackalloc byte[3];
        for (int steps = 0; steps < 0x2000; steps++)
        {
            ulong gpa = CsBase + Ip;
            if (!session.ReadGuest(gpa, bytes[..1]) || (bytes[0] is 0xeb or 0x0f && !session.ReadGuest(gpa + 1, bytes[1..])))
            {
                Exit(kind == VirtualizationKind.Svm ? VmExitReason.AmdNpt : VmExitReason.IntelEpt, gpa);
                return;
            }
            switch (bytes[0])
            {
                case 0x90:
                    Ip += 1;
                    break;
                case 0xf4:
                    Exit(kind == VirtualizationKind.Svm ? VmExitReason.AmdHlt : VmExitReason.IntelHlt, 0);
                    return;
                case 0xeb when bytes[1] == 0xfe:
                    return;
                case 0xeb:
                    Ip = (ushort)(Ip + 2 + (ulong)(long)(sbyte)bytes[1]);
                    break;
                case 0x0f when bytes[1] == 0x01 && bytes[2] == 0xf9:
                    ulong tsc = machine.Now * 1000 + TscOffset;
                    Dx = tsc >> 32;
                    Cx = (uint)TscAux;
                    Ip += 3;
                    break;
                default:
                    Exit(kind == VirtualizationKind.Svm ? VmExitReason.AmdTripleFault : VmExitReason.IntelInvalidState, 0);
                    return;
            }
        }
    }

    private void Exit(uint reason, ulong gpa)
    {
        if (Destroyed)
            return;
        Running = false;
        _generation++;
        OnExit(reason, gpa);
    }
}
