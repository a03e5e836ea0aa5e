using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests.TestDoubles;

public sealed class FakeTimer(FakeMachine machine) : ITimerConnection
{
    private readonly ulong _opened = machine.Now;
    private SignalContextCapability? _sigh;
    private int _generation;

    public ulong ElapsedMicroseconds => machine.Now - _opened;

    public void Sigh(SignalContextCapability context) => _sigh = context;

    public void TriggerOnce(ulong microseconds) => Program(microseconds, periodic: false);

    public void TriggerPeriodic(ulong microseconds) => Program(microseconds, periodic: true);

    public void Dispose() => _generation++;

    private void Program(ulong microseconds, bool periodic)
    {
        int generation = ++_generation;
        if (microseconds == 0 && periodic)
            return;
        Arm(microseconds, periodic, generation);
    }

    private void Arm(ulong microseconds, bool periodic, int generation) =>
        machine.Schedule(microseconds, null, () =>
        {
            if (generation != _generation)
                return;
            _sigh?.Submit();
            if (periodic)
                Arm(microseconds, periodic, generation);
        });
}
