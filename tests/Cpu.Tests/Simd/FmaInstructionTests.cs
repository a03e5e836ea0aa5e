using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.Simd;

/// <summary>The FMA3 forms (SDM vol. 2, VFMADD132PS … VFMSUBADD231PD): operand orders, widths, the scalar merge, memory operands and exceptions.</summary>
[TestClass]
public sealed class FmaInstructionTests
{
    private const ulong Upper = 0xDEAD_BEEF_0123_4567;

    private static float[] Singles(Processor cpu, int ymm) => [.. Enumerable.Range(0, 8).Select(i => AvxGuest.Single(cpu, ymm, i))];

    private static double Double(Processor cpu, int ymm, int lane) => BitConverter.UInt64BitsToDouble(SimdGuest.Qword(cpu, ymm, lane));

    private static void SetDoubles(Processor cpu, int ymm, params double[] values) =>
        AvxGuest.SetYmm(cpu, ymm, [.. values.Select(BitConverter.DoubleToUInt64Bits)]);

    [TestMethod]
    public void Vfmadd132psIsDestinationTimesRmPlusVvvvInAllEightLanes()
    {
        using var g = AvxGuest.Long(a => a.vfmadd132ps(ymm0, ymm1, ymm2));
        AvxGuest.SetSingles(g.Cpu, 0, 1, 2, 3, 4, 5, 6, 7, 8);
        AvxGuest.SetSingles(g.Cpu, 1, 10, 20, 30, 40, 50, 60, 70, 80);
        AvxGuest.SetSingles(g.Cpu, 2, 2, 2, 2, 2, -1, -1, -1, -1);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new float[] { 12, 24, 36, 48, 45, 54, 63, 72 }, Singles(g.Cpu, 0));
    }

    [TestMethod]
    public void TheThreeOrdersOfVfmsubpd()
    {
        foreach (var (order, expected) in new[] { (132, 2.0 * 5 - 3), (213, 3.0 * 2 - 5), (231, 3.0 * 5 - 2) })
        {
            using var g = AvxGuest.Long(a =>
            {
                if (order == 132) a.vfmsub132pd(xmm0, xmm1, xmm2);
                else if (order == 213) a.vfmsub213pd(xmm0, xmm1, xmm2);
                else a.vfmsub231pd(xmm0, xmm1, xmm2);
            });
            SetDoubles(g.Cpu, 0, 2, 2, 9, 9);
            SetDoubles(g.Cpu, 1, 3, 3);
            SetDoubles(g.Cpu, 2, 5, 5);
            SimdGuest.RunToEnd(g);
            Assert.AreEqual(expected, Double(g.Cpu, 0, 0), $"{order}");
            Assert.AreEqual(expected, Double(g.Cpu, 0, 1), $"{order}");
            Assert.AreEqual(0UL, SimdGuest.Qword(g.Cpu, 0, 2), "VEX.128 zeroes bits 255:128");
        }
    }

    [TestMethod]
    public void ScalarFormsKeepTheDestinationsUpperBitsAndZero255To128()
    {
        using var g = AvxGuest.Long(a => a.vfnmadd231ss(xmm0, xmm1, __dword_ptr[rsi]));
        AvxGuest.SetYmm(g.Cpu, 0, 0x1111_1111_0000_0000UL | SimdGuest.Bits(1), Upper, Upper, Upper);
        AvxGuest.SetYmm(g.Cpu, 1, 0x2222_2222_0000_0000UL | SimdGuest.Bits(3), 0x3333);
        g.Memory.Write(SimdGuest.Data, 4, SimdGuest.Bits(4));
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x1111_1111_0000_0000UL | SimdGuest.Bits(-11), Upper, 0, 0 }, AvxGuest.Ymm(g.Cpu, 0), "−(3 × 4) + 1");
    }

    [TestMethod]
    public void VfmaddsubSubtractsInEvenLanesAndVfmsubaddInOdd()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.vmovapd(ymm3, ymm0);
            a.vfmaddsub213pd(ymm0, ymm1, ymm2);
            a.vfmsubadd213pd(ymm3, ymm1, ymm2);
        });
        SetDoubles(g.Cpu, 0, 1, 2, 3, 4);
        SetDoubles(g.Cpu, 1, 10, 10, 10, 10);
        SetDoubles(g.Cpu, 2, 0.5, 0.5, 0.5, 0.5);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new[] { 9.5, 20.5, 29.5, 40.5 }, Enumerable.Range(0, 4).Select(i => Double(g.Cpu, 0, i)).ToArray());
        CollectionAssert.AreEqual(new[] { 10.5, 19.5, 30.5, 39.5 }, Enumerable.Range(0, 4).Select(i => Double(g.Cpu, 3, i)).ToArray());
    }

    [TestMethod]
    public void AnUnmaskedExceptionInOneLaneLeavesTheDestinationAndRaisesXm()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.mov(__dword_ptr[rsi], 0x1F80 & ~0x80);
            a.vldmxcsr(__dword_ptr[rsi]);
            a.vfmadd231ps(ymm0, ymm1, ymm2);
        });
        AvxGuest.SetSingles(g.Cpu, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        AvxGuest.SetSingles(g.Cpu, 1, 1, 1, 1, 1, 1, 1, 1, float.PositiveInfinity);
        AvxGuest.SetSingles(g.Cpu, 2, 1, 1, 1, 1, 1, 1, 1, 0);
        Assert.AreEqual((int)ExceptionVector.XM, g.RunToVector(), "∞ × 0 with IM clear");
        CollectionAssert.AreEqual(new float[] { 1, 1, 1, 1, 1, 1, 1, 1 }, Singles(g.Cpu, 0));
        Assert.AreEqual(1u, g.Cpu.Mxcsr & 0x3F, "IE");
    }

    [TestMethod]
    public void CpuidAnnouncesFma()
    {
        using var g = AvxGuest.Long(_ => { });
        g.Cpu.Cpuid(1, 0, out _, out _, out var ecx, out _);
        Assert.AreNotEqual(0u, ecx & (1u << 12), "CPUID.1:ECX.FMA[12]");
    }
}
