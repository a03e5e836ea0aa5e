using Sim.Vmx.Ept;

namespace Sim.Vmx.Tests;

/// <summary>The VM-entry checks on the EPTP (SDM vol. 3, 27.2.1.1) against IA32_VMX_EPT_VPID_CAP (appendix A.10).</summary>
[TestClass]
public sealed class EptPointerTests
{
    private const ulong WalkLength4 = 3UL << 3;

    [TestMethod]
    [DataRow(0x123000UL | 6 | WalkLength4, DisplayName = "write-back, 4 levels")]
    [DataRow(0x123000UL | 0 | WalkLength4, DisplayName = "uncacheable, 4 levels")]
    [DataRow(0xFF_FFFF_F000UL | 6 | WalkLength4 | 1UL << 6, DisplayName = "A/D enabled, highest address")]
    public void ValidPointer(ulong eptp) => Assert.IsTrue(EptTranslator.IsValidEptp(eptp));

    [TestMethod]
    [DataRow(1UL, DisplayName = "write-combining")]
    [DataRow(2UL, DisplayName = "reserved type 2")]
    [DataRow(3UL, DisplayName = "reserved type 3")]
    [DataRow(4UL, DisplayName = "write-through")]
    [DataRow(5UL, DisplayName = "write-protected")]
    [DataRow(7UL, DisplayName = "reserved type 7")]
    public void UnsupportedMemoryType(ulong type)
    {
        // Only UC (capability bit 8) and WB (bit 14) are reported for the paging structures.
        Assert.IsFalse(EptTranslator.IsValidEptp(0x123000UL | type | WalkLength4));
    }

    [TestMethod]
    [DataRow(0UL)]
    [DataRow(1UL)]
    [DataRow(2UL)]
    [DataRow(4UL, DisplayName = "5-level, not reported")]
    [DataRow(7UL)]
    public void UnsupportedWalkLength(ulong lengthMinusOne) =>
        Assert.IsFalse(EptTranslator.IsValidEptp(0x123000UL | 6 | lengthMinusOne << 3));

    [TestMethod]
    [DataRow(7)]
    [DataRow(8)]
    [DataRow(9)]
    [DataRow(10)]
    [DataRow(11)]
    [DataRow(40, DisplayName = "bit 40, beyond the physical-address width")]
    [DataRow(51)]
    [DataRow(63)]
    public void ReservedBit(int bit) =>
        Assert.IsFalse(EptTranslator.IsValidEptp(0x123000UL | 6 | WalkLength4 | 1UL << bit));

    [TestMethod]
    public void CapabilityReportsWhatTheWalkerImplements()
    {
        // Appendix A.10: bits 0, 6, 8, 14, 16, 17, 21 and 22 describe the walker tested in EptTranslatorTests.
        const ulong expected = 1UL << 0 | 1UL << 6 | 1UL << 8 | 1UL << 14 | 1UL << 16 | 1UL << 17 | 1UL << 21 | 1UL << 22;
        Assert.AreEqual(expected, EptVpidCapability.Value & expected);
    }
}
