using Iced.Intel;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>
/// The Compat32 guest really runs in compatibility mode, on both machines: a guest in 64-bit mode
/// or in legacy protected mode would agree with itself just as well, so the differential test alone
/// cannot tell.
/// </summary>
[TestClass]
public sealed class CompatGuestTests
{
    private static readonly HashSet<Mnemonic> InvalidIn64 = [Mnemonic.Daa, Mnemonic.Das, Mnemonic.Aaa, Mnemonic.Aas, Mnemonic.Pushad, Mnemonic.Popad];

    [TestMethod]
    public void CasesRunInCompatibilityMode()
    {
        QemuRunner.EnsureInstalled();
        var generator = new CaseGenerator(GuestMode.Compat32, 6);
        var cases = Enumerable.Range(0, 1000).Select(generator.Generate).ToList();
        var guest = GuestBuilder.Build(GuestMode.Compat32, cases, generator.Pristine);
        foreach (var (name, output) in new[] { ("QEMU", QemuRunner.Run(guest, TimeSpan.FromSeconds(60))), ("sim", SimRunner.Run(guest, 2_000_000_000)) })
        {
            var records = CaseRecord.Parse(GuestMode.Compat32, output.DebugPortBytes);
            Assert.AreEqual(cases.Count, records.Count, $"{name}: {output.Diagnostics}");
            // Instructions that are #UD in 64-bit mode run: the code segment is not a 64-bit one.
            // Single-step cases only: a later step may raise #UD of its own.
            var legacyOnly = cases.Where(c => c.Steps.Count == 1 && InvalidIn64.Contains(c.Steps[0].Instruction.Mnemonic)).ToList();
            Assert.IsTrue(legacyOnly.Count > 0, "no case starts with an instruction invalid in 64-bit mode");
            foreach (var c in legacyOnly)
                Assert.AreNotEqual(6, records[cases.IndexOf(c)].Vector, $"{name}: #UD in case {c.Index} ({c.Steps[0].Instruction})");
            // Page faults at the unmapped GiB: paging, hence (with CR4.PAE and EFER.LME) IA-32e mode.
            Assert.IsTrue(records.Any(r => r.Vector == 14 && r.Cr2 >= DataLayout.UnmappedLinear), $"{name}: no page fault");
        }
    }
}
