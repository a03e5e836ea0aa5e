using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Sim.Vmm.Genode;
using Sim.Vmm.Tests.TestDoubles;
using Sim.Vmm.Toy;

namespace Sim.Vmm.Tests;

/// <summary>
/// The toy VMM on a test-double kernel that follows the backend contracts. The log is reduced the way
/// Genode's <c>vmm_x86.run</c> reduces it and compared with the run script's expected output (current
/// version) and the 19.05 sequences of the ABI notes §6.6.
/// </summary>
[TestClass]
public sealed partial class ToyVmmTests
{
    private const ulong Limit = 60_000_000;

    private static (ToyVmm Toy, FakeEnv Env, FakeVmBackend Backend) Run(ToyVariant variant, VirtualizationKind kind, bool mapsMemory = true, bool stopOnFailure = true)
    {
        var machine = new FakeMachine();
        var env = new FakeEnv(machine, kind);
        var backend = new FakeVmBackend(machine) { MapsMemory = mapsMemory };
        var toy = new ToyVmm(backend, variant);
        machine.Schedule(0, (FakeEntrypoint)env.Ep, () => toy.Construct(env));
        machine.RunUntil(() => toy.Status == ToyVmmStatus.Finished || (stopOnFailure && toy.Status == ToyVmmStatus.Failed), Limit);
        return (toy, env, backend);
    }

    [GeneratedRegex(@"^vcpu (\d) : \d+\.")]
    private static partial Regex ExitCount();

    /// <summary>The reduction of <c>vmm_x86.run</c> for one vCPU.</summary>
    private static string[] Reduce(IEnumerable<string> lines, int vcpu, string ep)
    {
        string p = $"vcpu {vcpu} : XX. vm exit - ";
        string[] removed =
        [
            $"{p}reason 0xfc handled by '{ep}'",
            $"{p}reason 0x4e handled by '{ep}'",
            $"{p}reason 0x30 handled by '{ep}'",
            $"{p}resume vcpu",
        ];
        return lines
            .Where(l => l.StartsWith($"vcpu {vcpu} :", StringComparison.Ordinal))
            .Select(l => ExitCount().Replace(l, $"vcpu {vcpu} : XX."))
            .Select(l => l.Replace($"{p}reason 0xc ", $"{p}reason 0x78 "))
            .Where(l => !removed.Contains(l))
            .Where(l => !l.StartsWith($"{p} guest fault address: ", StringComparison.Ordinal))
            .Where(l => !l.StartsWith($"{p} rdtscp", StringComparison.Ordinal))
            .ToArray();
    }

    private static string[] Expected(int vcpu, string ep, params string[] events) =>
        [$"vcpu {vcpu} : created", .. events.Select(e => e.StartsWith("0x", StringComparison.Ordinal)
            ? $"vcpu {vcpu} : XX. vm exit - reason {e} handled by '{ep}'"
            : $"vcpu {vcpu} : XX. vm exit -  {e}")];

    private static string Hlt(string ip) => $"halting vCPU - guest called HLT - ip={ip}";

    private static string Pause(string ip) => $"due to pause() request - ip={ip}";

    [TestMethod]
    [DataRow(VirtualizationKind.Vmx)]
    [DataRow(VirtualizationKind.Svm)]
    public void TheCurrentTestProducesTheRunScriptsOutput(VirtualizationKind kind)
    {
        var (toy, env, _) = Run(ToyVariant.Current, kind);

        Assert.AreEqual(ToyVmmStatus.Finished, toy.Status, string.Join("\n", env.Lines));
        Assert.IsFalse(env.Lines.Any(l => l.Contains("Error")));
        Assert.AreEqual("vmm test finished", env.Lines[^1]);
        System.IO.File.WriteAllLines($"/tmp/toy-{kind}.txt", env.Lines);

        CollectionAssert.AreEqual(Expected(0, "ep", "0xfe", "0x78", Hlt("0xff81")), Reduce(env.Lines, 0, "ep"));
        CollectionAssert.AreEqual(Expected(1, "ep",
            "0xfe", "0x78", Hlt("0xff81"), "0xff", Pause("0xff81"), "0x78", Hlt("0xff81"),
            "0xff", Pause("0xff81"), "0xff", Pause("0xff83"), "0x78", Hlt("0xff85"), "0xff", Pause("0xff85")),
            Reduce(env.Lines, 1, "ep"));
        CollectionAssert.AreEqual(Expected(2, "second ep",
            "0xfe", "0x78", Hlt("0xff81"), "0xff", Pause("0xff81"), "0xff", "0x78", Hlt("0xff81"),
            "0xff", Pause("0xff81"), "0xff", "0x78", Hlt("0xff82"), "0xff", Pause("0xff82")),
            Reduce(env.Lines, 2, "second ep"));
        CollectionAssert.AreEqual(Expected(3, "second ep", "0xfe", "0x78", Hlt("0xff81")), Reduce(env.Lines, 3, "second ep"));
    }

    [TestMethod]
    public void TheCurrentTestLogsTscAuxOfGuestAndHostAndTheTscOffset()
    {
        var (_, env, _) = Run(ToyVariant.Current, VirtualizationKind.Vmx);
        var rdtscp = env.Lines.Where(l => l.Contains(" rdtscp cx ")).Select(l => ExitCount().Replace(l, "vcpu $1 : XX.")).Order().ToArray();
        CollectionAssert.AreEqual(new[]
        {
            "vcpu 0 : XX. vm exit -  rdtscp cx guest=0xaffe0000 host=0x0 dx 0xff00",
            "vcpu 1 : XX. vm exit -  rdtscp cx guest=0xaffe0001 host=0x0 dx 0xff00",
            "vcpu 2 : XX. vm exit -  rdtscp cx guest=0xaffe0002 host=0x1 dx 0xff00",
            "vcpu 3 : XX. vm exit -  rdtscp cx guest=0xaffe0003 host=0x1 dx 0xff00",
        }, rdtscp);
    }

    [TestMethod]
    public void TheCurrentTestForcesAnFpuTransferOnResumeA()
    {
        var (_, env, backend) = Run(ToyVariant.Current, VirtualizationKind.Vmx);
        Assert.IsTrue(env.Lines.Contains("ep     : request resume (A) of vcpu 1"));
        var vcpus = backend.Sessions.Single().CurrentVcpus;
        CollectionAssert.AreEqual(new[] { 0, 1, 0, 0 }, vcpus.Select(v => v.FpuLoads).ToArray());
    }

    [TestMethod]
    [DataRow(VirtualizationKind.Vmx)]
    [DataRow(VirtualizationKind.Svm)]
    public void The1905TestProducesTheSequencesOfTheReference(VirtualizationKind kind)
    {
        var (toy, env, _) = Run(ToyVariant.Genode1905, kind);

        Assert.AreEqual(ToyVmmStatus.Finished, toy.Status, string.Join("\n", env.Lines));
        Assert.IsFalse(env.Lines.Any(l => l.Contains("Error")));
        Assert.IsTrue(env.Lines.Contains("let vCPUs run - first EP"));

        CollectionAssert.AreEqual(Expected(0, "ep", "0xfe", "0x78", Hlt("0xfff0")), Reduce(env.Lines, 0, "ep"));
        CollectionAssert.AreEqual(Expected(1, "ep",
            "0xfe", "0x78", Hlt("0xfff0"), "0xff", Pause("0xfff0"), "0x78", Hlt("0xfff0"),
            "0xff", Pause("0xfff0"), "0xff", Pause("0xfff2"), "0x78", Hlt("0xfff4"), "0xff", Pause("0xfff4")),
            Reduce(env.Lines, 1, "ep"));
        CollectionAssert.AreEqual(Expected(2, "second ep",
            "0xfe", "0x78", Hlt("0xfff0"), "0xff", Pause("0xfff0"), "0x78", Hlt("0xfff0"),
            "0xff", Pause("0xfff0"), "0x78", Hlt("0xfff1"), "0xff", Pause("0xfff1")),
            Reduce(env.Lines, 2, "second ep"));
        CollectionAssert.AreEqual(Expected(3, "second ep", "0xfe", "0x78", Hlt("0xfff0")), Reduce(env.Lines, 3, "second ep"));
    }

    [TestMethod]
    [DataRow(ToyVariant.Genode1905)]
    [DataRow(ToyVariant.Current)]
    public void TheGuestPageIsAttachedOnceAtTheResetVectorsPage(ToyVariant variant)
    {
        var (_, env, backend) = Run(variant, VirtualizationKind.Vmx);
        var session = backend.Sessions.Single();
        Assert.IsTrue(session.Mapped.All(m => m.GuestPhys == 0xffff_f000 && m.Attr.Size == 0x1000));
        Assert.AreEqual(4, session.Mapped.Count, "one attach per vCPU's memory exit, the later ones re-attaches");
        Assert.AreEqual(4, env.Lines.Count(l => l.EndsWith(" guest fault address: 0xfffffff0", StringComparison.Ordinal)));
    }

    [TestMethod]
    [DataRow(ToyVariant.Genode1905)]
    [DataRow(ToyVariant.Current)]
    public void AnExitStormStopsTheVcpuAtItsFifthExit(ToyVariant variant)
    {
        var (toy, env, _) = Run(variant, VirtualizationKind.Vmx, mapsMemory: false, stopOnFailure: false);
        Assert.AreEqual(ToyVmmStatus.Failed, toy.Status);
        for (int vcpu = 0; vcpu < 4; vcpu++)
        {
            CollectionAssert.Contains(env.Lines, $"Error: vcpu {vcpu} : 5. vm exit -  halting vCPU - unknown state");
            Assert.IsFalse(env.Lines.Any(l => l.StartsWith($"vcpu {vcpu} : 6.", StringComparison.Ordinal)));
            Assert.AreEqual(4, env.Lines.Count(l => l.StartsWith($"vcpu {vcpu} : ", StringComparison.Ordinal) && l.EndsWith(". vm exit - resume vcpu", StringComparison.Ordinal)));
        }
    }

    [TestMethod]
    public void WithoutVirtualizationTheToyFails()
    {
        var (toy, env, _) = Run(ToyVariant.Current, VirtualizationKind.None);
        Assert.AreEqual(ToyVmmStatus.Failed, toy.Status);
        CollectionAssert.Contains(env.Lines, "Error: no SVM nor VMX support detected");
    }

    [TestMethod]
    public void TheComponentIsWiredThroughDependencyInjection()
    {
        var machine = new FakeMachine();
        var services = new ServiceCollection()
            .AddSingleton(machine)
            .AddVmBackend<FakeVmBackend>()
            .AddToyVmm(ToyVariant.Current);
        using var provider = services.BuildServiceProvider();

        var component = provider.GetRequiredService<IComponent>();
        Assert.AreSame(provider.GetRequiredService<ToyVmm>(), component);
        Assert.IsInstanceOfType<FakeVmBackend>(provider.GetRequiredService<IVmBackend>());

        var env = new FakeEnv(machine, VirtualizationKind.Svm);
        machine.Schedule(0, (FakeEntrypoint)env.Ep, () => component.Construct(env));
        var toy = (ToyVmm)component;
        machine.RunUntil(() => toy.Status is ToyVmmStatus.Finished or ToyVmmStatus.Failed, Limit);
        Assert.AreEqual(ToyVmmStatus.Finished, toy.Status);
    }
}
