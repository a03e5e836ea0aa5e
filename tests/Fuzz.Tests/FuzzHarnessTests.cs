using Sim.Platform;

namespace Sim.Fuzz.Tests;

[TestClass]
public sealed class FuzzHarnessTests
{
    private static readonly FuzzSettings Quick = new() { MaxInstructions = 20_000 };

    [TestMethod]
    public void NoCaseOfAnyKindMakesTheSimulatorFail()
    {
        var summary = new FuzzSummary();
        foreach (var result in new FuzzHarness(Quick).Run(seed: 1, first: 0, count: 12 * 16, kind: null)) summary.Add(result);
        Assert.AreEqual(12 * 16, summary.Cases);
        Assert.AreEqual(FuzzCase.AllKinds.Count, summary.Kinds.Count);
        Assert.AreEqual(0, summary.Failures.Count, string.Join(Environment.NewLine, summary.Failures.Where(f => f.Failed).Select(f => f.FailureLine)));
    }

    [TestMethod]
    public void TheSameSeedGivesTheSameOutcomesInstructionsAndCycles()
    {
        var first = new FuzzHarness(Quick).Run(seed: 7, first: 0, count: 24, kind: null).Select(r => r.Fingerprint).ToArray();
        var second = new FuzzHarness(Quick).Run(seed: 7, first: 0, count: 24, kind: null).Select(r => r.Fingerprint).ToArray();
        CollectionAssert.AreEqual(first, second);
        Assert.IsTrue(first.Distinct().Count() == first.Length);
    }

    [TestMethod]
    public void ACaseIsTheSameAloneAsInARun()
    {
        var inRun = new FuzzHarness(Quick).Run(seed: 3, first: 0, count: 14, kind: null).Last();
        var alone = new FuzzHarness(Quick).Run(FuzzCase.Of(3, 13, null));
        Assert.AreEqual(inRun.Fingerprint, alone.Fingerprint);
        Assert.AreEqual(FuzzCase.AllKinds[13 % FuzzCase.AllKinds.Count], alone.Case.Kind);
    }

    [TestMethod]
    public void AnExceptionFromADeviceIsReportedAsAHostSideFailure()
    {
        var settings = Quick with { PrepareMachine = machine => ClaimFreePorts(machine, new ThrowingDevice()) };
        var results = new FuzzHarness(settings).Run(seed: 1, first: 0, count: 20, kind: FuzzKind.PortIo).ToList();
        var failure = results.FirstOrDefault(r => r.Failed);
        Assert.IsNotNull(failure, "no case reached a port of the throwing device");
        Assert.AreEqual("run", failure.Failure!.Phase);
        Assert.AreEqual(typeof(InvalidOperationException).FullName, failure.Failure.ExceptionType);
        Assert.AreEqual(ThrowingDevice.Message, failure.Failure.Message);
        StringAssert.Contains(failure.Failure.ThrowSite, nameof(ThrowingDevice));
        StringAssert.StartsWith(failure.FailureLine, $"sim fuzz --seed 1 --kind PortIo --case {failure.Case.Index}:");
        var summary = new FuzzSummary();
        foreach (var r in results) summary.Add(r);
        Assert.AreEqual(results.Count(r => r.Failed), summary.Failures.Count);
    }

    [TestMethod]
    [TestCategory("Long")]
    public void TwentyThousandCasesOverFourSeedsMakeNoFailure()
    {
        var summary = new FuzzSummary();
        foreach (var seed in new ulong[] { 11, 12, 13, 14 })
            foreach (var result in new FuzzHarness(new FuzzSettings()).Run(seed, 0, 5000, kind: null)) summary.Add(result);
        Assert.AreEqual(0, summary.Failures.Count, string.Join(Environment.NewLine, summary.Failures.Where(f => f.Failed).Select(f => f.FailureLine)));
    }

    private static void ClaimFreePorts(Machine machine, IPortDevice device)
    {
        // Not port 0xFFFF: IoBus.Register's ushort loop counter wraps there.
        for (var port = 0; port < 0xFFFF; port++)
            if (machine.Io.DeviceAt((ushort)port) == null) machine.Io.Register((ushort)port, 1, device);
    }

    /// <summary>A device with a bug: every access throws.</summary>
    private sealed class ThrowingDevice : IPortDevice
    {
        public const string Message = "injected device failure";

        public uint Read(ushort port, int size) => throw new InvalidOperationException(Message);

        public void Write(ushort port, int size, uint value) => throw new InvalidOperationException(Message);
    }
}
