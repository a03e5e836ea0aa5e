using Sim.Cpu;
using Sim.Microkernels.Kernel;
using Sim.Platform;

namespace Sim.Microkernels.Tests.Kernel;

[TestClass]
public sealed class SchedulerTests
{
    private static Machine NewMachine(int cpus = 2, CpuVendor vendor = CpuVendor.Intel) =>
        new(new MachineConfig { Cpus = cpus, Vendor = vendor, MemoryBytes = 64UL << 20 });

    [TestMethod]
    public void ThreadsOnTwoProcessorsPingPongThroughSemaphoresAcrossIpis()
    {
        using var machine = NewMachine();
        var kernel = new TestKernel(machine);
        var ping = new CountingSemaphore();
        var pong = new CountingSemaphore();
        kernel.Start("a", 0, 10, async t =>
        {
            for (var i = 0; i < 3; i++)
            {
                kernel.Log.Add($"a{i}@{t.Processor!.Index}");
                ping.Up();
                await pong.Down(t);
            }
            kernel.Finish();
        });
        kernel.Start("b", 1, 10, async t =>
        {
            while (true)
            {
                await ping.Down(t);
                kernel.Log.Add($"b@{t.Processor!.Index}");
                pong.Up();
            }
        });
        var result = machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, result.Message);
        CollectionAssert.AreEqual(new[] { "a0@0", "b@1", "a1@0", "b@1", "a2@0", "b@1" }, kernel.Log);
        Assert.AreEqual(0, kernel.Faults.Count);
    }

    [TestMethod]
    public void HigherPriorityRunsFirstAndEqualPrioritiesTakeTurnsBySlice()
    {
        using var machine = NewMachine(1);
        var kernel = new TestKernel(machine);
        var done = 0;
        foreach (var (name, priority) in new[] { ("low", 5), ("high", 20) })
            kernel.Start(name, 0, priority, async t =>
            {
                kernel.Log.Add(name);
                await ThreadWait.Completed();
                if (++done == 2) kernel.Finish();
            });
        machine.Run();
        CollectionAssert.AreEqual(new[] { "high", "low" }, kernel.Log);
    }

    [TestMethod]
    public void ADownWithADeadlineTimesOutAtThatCycleThroughTheLocalApicTimer()
    {
        using var machine = NewMachine(1);
        var kernel = new TestKernel(machine);
        var sm = new CountingSemaphore();
        ulong woke = 0, deadline = 0;
        int status = -1;
        kernel.Start("sleeper", 0, 10, async t =>
        {
            deadline = t.Processor!.Cpu.Cycles + 50_000;
            status = await sm.Down(t, deadline: deadline, timeoutStatus: 7);
            woke = t.Processor.Cpu.Cycles;
            kernel.Finish();
        });
        var result = machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, result.Message);
        Assert.AreEqual(7, status);
        Assert.IsTrue(woke >= deadline && woke < deadline + 2_000, $"woke at {woke}, deadline {deadline}");
        Assert.AreEqual(0, sm.WaiterCount, "the timed-out waiter left the semaphore");
    }

    [TestMethod]
    public void AHostThreadThatThrowsIsKilledAndReported()
    {
        using var machine = NewMachine(1);
        var kernel = new TestKernel(machine);
        var t = kernel.Start("bad", 0, 10, _ => throw new InvalidOperationException("boom"));
        kernel.Start("good", 0, 5, async _ => { await ThreadWait.Completed(); kernel.Finish(); });
        machine.Run();
        Assert.AreEqual(KernelThreadState.Dead, t.State);
        Assert.AreEqual("boom", kernel.Faults.Single().Fault.Message);
    }

    [TestMethod]
    public void TheSameRunTwiceGivesTheSameSwitchesAndCycles()
    {
        (List<(int, int, int)>, ulong) Once()
        {
            using var machine = NewMachine();
            var kernel = new TestKernel(machine);
            var sm = new CountingSemaphore();
            for (var i = 0; i < 4; i++)
            {
                var cpu = i % 2;
                kernel.Start($"t{i}", cpu, 10, async t =>
                {
                    for (var k = 0; k < 5; k++)
                    {
                        sm.Up();
                        await sm.Down(t);
                        t.Processor!.Charge(3_000);
                    }
                    if (t.Id == 3) kernel.Finish();
                }, quantum: 4_000);
            }
            var r = machine.Run();
            return (kernel.Switches, r.Cycles);
        }
        var (a, ca) = Once();
        var (b, cb) = Once();
        CollectionAssert.AreEqual(a, b);
        Assert.AreEqual(ca, cb);
    }
}
