using Sim.Cpu.Timing;

namespace Sim.Cpu.Tests.Timing;

[TestClass]
public sealed class CostModelTests
{
    [TestMethod]
    public void EveryDefaultFigureCitesItsSource()
    {
        Assert.AreEqual(16, CostModel.Names.Count);
        foreach (var name in CostModel.Names)
            Assert.IsTrue(CostModel.SourceOf(name).Length > 40, $"{name} says where its figure comes from");
    }

    [TestMethod]
    public void TheDefaultsAreThePublishedFigures()
    {
        var d = CostModel.Default;
        Assert.AreEqual(500UL, d.VmxExit + d.VmxEntry, "Agesen et al., USENIX ATC 2012: a ~500-cycle exit round trip");
        Assert.AreEqual(1360UL, d.Vmrun + d.SvmExit, "LKML December 2020: ~1,350 cycles from before VMRUN to after #VMEXIT");
        Assert.AreEqual(288UL, d.Ipc, "NOVA, EuroSys 2010: 288-cycle one-way IPC");
        Assert.AreEqual(160UL, d.SyscallEntry + d.SyscallExit, "L4Re null system call, Xeon Platinum 8352S");
        Assert.AreEqual(d.VmxExit, d["vmxExit"]);
        Assert.AreSame(CostModel.Default, CostModel.Default, "loaded once");
    }

    [TestMethod]
    public void AnOverrideReplacesOnlyTheFiguresItNames()
    {
        var c = CostModel.Parse("{ \"ipc\": 1000, \"vmread\": { \"cycles\": 0, \"source\": \"free\" } }", "test", CostModel.Default);
        Assert.AreEqual(1000UL, c.Ipc);
        Assert.AreEqual(0UL, c.Vmread);
        Assert.AreEqual(CostModel.Default with { Ipc = 1000, Vmread = 0 }, c);
        Assert.AreEqual(CostModel.Default, CostModel.Parse("{}", "test", CostModel.Default));
    }

    [TestMethod]
    [DataRow("{ \"ipcs\": 1 }", "test: unknown cost figure 'ipcs'")]
    [DataRow("{ \"ipc\": -5 }", "non-negative whole number of cycles, not -5")]
    [DataRow("{ \"ipc\": 1e3 }", "non-negative whole number")]
    [DataRow("{ \"ipc\": 18446744073709551616 }", "non-negative whole number")]
    [DataRow("{ \"ipc\": null }", "non-negative whole number")]
    [DataRow("{ \"ipc\": { \"source\": \"x\" } }", "has no cycles")]
    [DataRow("{ \"ipc\": { \"cycles\": 1, \"source\": 2 } }", "source of 'ipc' must be a string")]
    [DataRow("{ ipc: 1 }", "test: not valid JSON")]
    [DataRow("", "test: not valid JSON")]
    [DataRow("42", "expected an object")]
    public void BadFiguresAreOneClearError(string json, string containing)
    {
        var e = Assert.ThrowsExactly<CostModelException>(() => CostModel.Parse(json, "test", CostModel.Default));
        StringAssert.Contains(e.Message, containing);
        Assert.IsFalse(e.Message.Contains('\n'), e.Message);
    }

    [TestMethod]
    public void LoadReadsAFileOverTheDefaults()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "{ \"threadSwitch\": 7 }");
            Assert.AreEqual(CostModel.Default with { ThreadSwitch = 7 }, CostModel.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
        var e = Assert.ThrowsExactly<CostModelException>(() => CostModel.Load(path));
        StringAssert.Contains(e.Message, "cannot read the cost file");
    }
}
