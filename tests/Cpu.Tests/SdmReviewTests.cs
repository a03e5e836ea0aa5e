using Iced.Intel;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.PageTableBuilder;

namespace Sim.Cpu.Tests;

/// <summary>Reproducers of divergences from the SDM found in review, one per rule.</summary>
[TestClass]
public sealed class SdmReviewTests
{
    [TestMethod]
    public void Idiv32OfMostNegativeDividendByMinusOneRaisesDivideError_IDIV()
    {
        // IDIV: #DE when the quotient is too large for the destination (2^63 does not fit in EAX).
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(edx, 0x80000000);
            a.xor(eax, eax);
            a.mov(ecx, -1);
            a.idiv(ecx);
        });
        Assert.AreEqual(ExceptionVector.DE, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress + 12, g.Stack(0), "#DE is a fault: EIP of the IDIV");
    }

    [TestMethod]
    public void Idiv64OfMostNegativeDividendByMinusOneRaisesDivideError_IDIV()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(rdx, 0x8000000000000000UL);
            a.xor(eax, eax);
            a.mov(rcx, -1L);
            a.idiv(rcx);
        });
        Assert.AreEqual(ExceptionVector.DE, g.RunToVector());
    }
}
