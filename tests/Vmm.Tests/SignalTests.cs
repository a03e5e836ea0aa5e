using Sim.Vmm.Genode;
using Sim.Vmm.Tests.TestDoubles;

namespace Sim.Vmm.Tests;

/// <summary>Signal delivery on an entrypoint: Genode coalesces submits that precede the dispatch into one dispatch with their count.</summary>
[TestClass]
public sealed class SignalTests
{
    private sealed class Recorder : SignalDispatcherBase
    {
        public Recorder(IEntrypoint ep, List<(string, uint)> log, string name)
            : base(ep)
        {
            Log = log;
            Name = name;
            Manage();
        }

        public List<(string, uint)> Log { get; }

        public string Name { get; }

        public override void Dispatch(uint count) => Log.Add((Name, count));
    }

    private static (FakeMachine, FakeEntrypoint) Ep()
    {
        var machine = new FakeMachine();
        return (machine, new FakeEntrypoint(machine, "ep", 0));
    }

    [TestMethod]
    public void SubmitsBeforeTheDispatchCoalesceIntoOneDispatchWithTheirCount()
    {
        var (machine, ep) = Ep();
        var log = new List<(string, uint)>();
        var a = new Recorder(ep, log, "a");
        a.SignalCap.Submit();
        a.SignalCap.Submit(2);
        a.LocalSubmit();
        machine.RunUntil(() => false, 10);
        CollectionAssert.AreEqual(new[] { ("a", 4u) }, log);
    }

    [TestMethod]
    public void ASubmitAfterTheDispatchIsDispatchedAgain()
    {
        var (machine, ep) = Ep();
        var log = new List<(string, uint)>();
        var a = new Recorder(ep, log, "a");
        a.SignalCap.Submit();
        machine.RunUntil(() => false, 10);
        a.SignalCap.Submit();
        machine.RunUntil(() => false, 10);
        CollectionAssert.AreEqual(new[] { ("a", 1u), ("a", 1u) }, log);
    }

    [TestMethod]
    public void ContextsAreDispatchedInTheOrderTheyBecamePending()
    {
        var queue = new SignalQueue();
        var (_, ep) = Ep();
        var log = new List<(string, uint)>();
        var a = new Recorder(ep, log, "a");
        var b = new Recorder(ep, log, "b");
        Assert.IsTrue(queue.Submit(b.SignalCap, 1));
        Assert.IsTrue(queue.Submit(a.SignalCap, 1));
        Assert.IsFalse(queue.Submit(b.SignalCap, 1));
        while (queue.DispatchNext()) { }
        CollectionAssert.AreEqual(new[] { ("b", 2u), ("a", 1u) }, log);
    }

    [TestMethod]
    public void ADissolvedContextLosesItsPendingSignalsAndIgnoresNewOnes()
    {
        var (machine, ep) = Ep();
        var log = new List<(string, uint)>();
        var a = new Recorder(ep, log, "a");
        a.SignalCap.Submit();
        a.Dissolve();
        a.SignalCap.Submit();
        machine.RunUntil(() => false, 10);
        Assert.AreEqual(0, log.Count);
        Assert.IsFalse(a.SignalCap.Valid);
    }

    [TestMethod]
    public void ASignalHandlerCallsItsMember()
    {
        var (machine, ep) = Ep();
        int calls = 0;
        var owner = new object();
        var handler = new SignalHandler<object>(ep, owner, _ => calls++);
        handler.SignalCap.Submit();
        handler.SignalCap.Submit();
        machine.RunUntil(() => false, 10);
        Assert.AreEqual(1, calls);
    }

    [TestMethod]
    public void AVmHandlerRunsItsMemberThenUpsDone()
    {
        var (_, ep) = Ep();
        var owner = new List<int>();
        var handler = new VmHandler<List<int>>(ep, owner, o => o.Add(1));
        Assert.AreEqual(0, handler.Done.Count);
        handler.Dispatch();
        Assert.AreEqual(1, owner.Count);
        Assert.AreEqual(1, handler.Done.Count);
        Assert.IsFalse(handler.ConfigVmEvent(new VmState(), VmExitReason.IntelEpt));
    }

    [TestMethod]
    public void TheExitConfigCallbackTouchesWhatTheHandlerNeeds()
    {
        var (_, ep) = Ep();
        var handler = new VmHandler<object>(ep, new object(), _ => { }, (_, s, exit) =>
        {
            s.Ip.SetValue(0);
            if (exit == VmExitReason.IntelEpt)
                s.QualSecondary.SetValue(0);
        });
        var hlt = new VmState();
        Assert.IsTrue(handler.ConfigVmEvent(hlt, VmExitReason.IntelHlt));
        Assert.IsTrue(hlt.Ip.Valid);
        Assert.IsFalse(hlt.QualSecondary.Valid);
        var ept = new VmState();
        handler.ConfigVmEvent(ept, VmExitReason.IntelEpt);
        Assert.IsTrue(ept.QualSecondary.Valid);
    }

    [TestMethod]
    public void AVcpuHandlerRunsItsMemberThenUpsTheReadySemaphore()
    {
        var (machine, ep) = Ep();
        var owner = new List<int>();
        var handler = new VcpuHandler<List<int>>(ep, owner, o => o.Add(1));
        handler.LocalSubmit();
        machine.RunUntil(() => false, 10);
        Assert.AreEqual(1, owner.Count);
        Assert.AreEqual(1, handler.ReadySemaphore.Count);
    }

    [TestMethod]
    public void ASemaphoreWakesItsWaitersInOrderInsteadOfCounting()
    {
        var semaphore = new CountingSemaphore();
        var woken = new List<int>();
        Assert.IsFalse(semaphore.Down(() => woken.Add(1)));
        Assert.IsFalse(semaphore.Down(() => woken.Add(2)));
        semaphore.Up();
        CollectionAssert.AreEqual(new[] { 1 }, woken);
        semaphore.Up();
        semaphore.Up();
        CollectionAssert.AreEqual(new[] { 1, 2 }, woken);
        Assert.AreEqual(1, semaphore.Count);
        Assert.IsTrue(semaphore.Down(() => woken.Add(3)));
        Assert.AreEqual(0, semaphore.Count);
    }
}
