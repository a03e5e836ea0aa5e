using System.Reflection;
using Sim.Vmm.Genode;
using Sim.Vmm.Toy;

namespace Sim.Vmm.Tests;

/// <summary>The VM library and the VMM reference no kernel model and nothing below the library.</summary>
[TestClass]
public sealed class AssemblyReferenceTests
{
    private static readonly string[] Forbidden = ["Sim.Vmx", "Sim.Svm", "Sim.Platform", "Sim.Cpu"];

    private static string[] SimReferences(Assembly assembly) =>
        assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("Sim.", StringComparison.Ordinal) || n == "sim").ToArray();

    [TestMethod]
    public void TheLibraryReferencesNoSimulatorAssembly()
    {
        var assembly = typeof(VmConnection).Assembly;
        Assert.AreEqual("Sim.Vmm.Genode", assembly.GetName().Name);
        CollectionAssert.AreEqual(Array.Empty<string>(), SimReferences(assembly));
    }

    [TestMethod]
    public void TheToyVmmReferencesOnlyTheLibrary()
    {
        var assembly = typeof(ToyVmm).Assembly;
        Assert.AreEqual("Sim.Vmm.Toy", assembly.GetName().Name);
        var references = SimReferences(assembly);
        CollectionAssert.AreEqual(new[] { "Sim.Vmm.Genode" }, references);
    }

    [TestMethod]
    public void NeitherReferencesAKernelModelOrTheHardware()
    {
        foreach (var assembly in new[] { typeof(VmConnection).Assembly, typeof(ToyVmm).Assembly })
        {
            foreach (var name in assembly.GetReferencedAssemblies().Select(a => a.Name!))
            {
                Assert.IsFalse(name.StartsWith("Sim.Microkernels", StringComparison.Ordinal), $"{assembly.GetName().Name} references {name}");
                Assert.IsFalse(Forbidden.Contains(name), $"{assembly.GetName().Name} references {name}");
            }
        }
    }
}
