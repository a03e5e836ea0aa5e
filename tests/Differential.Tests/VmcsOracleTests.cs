using Microsoft.VisualStudio.TestTools.UnitTesting;
using Sim.Cpu;
using Sim.Images.Guests;

namespace Sim.Differential.Tests;

/// <summary>
/// Generated VMCSs (<see cref="VmcsMutations"/>) and VMCBs (<see cref="VmcbMutations"/>) entered on sim and on Bochs by
/// the probe guests, which print for each case what VM entry reported: both must print the same line, except where the
/// SDM lets the processor choose (<see cref="ProbeComparison"/>) or a deviation explains it. A divergence is reported
/// shrunk to the simplest case that still shows it.
/// </summary>
[TestClass]
public sealed class VmcsOracleTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void GeneratedVmcsesEnterAlikeOnSimAndBochs() => CheckVmx(20261203, 300);

    [TestMethod]
    [TestCategory("Long")]
    public void ManyGeneratedVmcsesEnterAlikeOnSimAndBochs() => CheckVmx(77, 3000);

    private void CheckVmx(ulong seed, int count)
    {
        var cases = ProbeCases.Sample(VmcsMutations.All, seed, count);
        var comparison = new ProbeComparison("vmx", VmcsMutations.All,
            batch => new VmxProbeGuest([.. batch.Select(c => (IReadOnlyList<VmxProbeGuest.Write>)[.. c.Select(w => new VmxProbeGuest.Write(w.Target, w.Value))])]),
            CpuVendor.Intel, BochsRunner.IntelModel, TestContext.WriteLine);
        Check(comparison, cases);
    }

    [TestMethod]
    public void GeneratedVmcbsRunAlikeOnSimAndBochs() => CheckSvm(20261203, 300);

    [TestMethod]
    [TestCategory("Long")]
    public void ManyGeneratedVmcbsRunAlikeOnSimAndBochs() => CheckSvm(77, 3000);

    private void CheckSvm(ulong seed, int count)
    {
        var cases = ProbeCases.Sample(VmcbMutations.All, seed, count);
        var comparison = new ProbeComparison("svm", VmcbMutations.All,
            batch => new SvmProbeGuest([.. batch.Select(c => (IReadOnlyList<SvmProbeGuest.Write>)[.. c.Select(w => new SvmProbeGuest.Write(w.Target, w.Size, w.Value))])]),
            CpuVendor.Amd, BochsRunner.AmdModel, TestContext.WriteLine, SvmProbeLine.Normalize);
        Check(comparison, cases);
    }

    private void Check(ProbeComparison comparison, List<ProbeWrite[]> cases)
    {
        var deviations = OracleDeviations.Probes.Concat(KnownDivergences.Probes).ToList();
        var (unexplained, explained) = comparison.Compare(cases, deviations, shrinkLimit: 4);
        var first = comparison.First!;
        TestContext.WriteLine($"sim header:\n{string.Join("\n", first.Sim.Header)}\nBochs header:\n{string.Join("\n", first.Bochs.Header)}");
        foreach (var (d, why) in explained) TestContext.WriteLine($"deviation: {ProbeComparison.Describe([d]).Trim()}: {why}");
        TestContext.WriteLine($"{cases.Count} cases, {comparison.Boots} boots, {comparison.Elapsed.TotalSeconds:F1} s; {comparison.Permitted} differ as the SDM permits, {explained.Count} explained by a deviation, {unexplained.Count} unexplained");
        Assert.IsTrue(first.Sim.Done, $"sim did not finish: {first.SimRun}\n{first.Sim.Text[^Math.Min(2000, first.Sim.Text.Length)..]}");
        Assert.IsTrue(first.Bochs.Done, $"Bochs did not finish: {first.BochsRun}\n{first.Bochs.Text[^Math.Min(2000, first.Bochs.Text.Length)..]}");
        Assert.AreEqual(0, unexplained.Count, $"{unexplained.Count} of {cases.Count} cases differ (the first shrunk):\n{ProbeComparison.Describe(unexplained.Take(30))}");
    }
}
