using System.Globalization;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>
/// The freestanding C guests of Images/Guests/C (built with the host's gcc at test time) run on
/// sim, on QEMU's TCG (-cpu max) and on Bochs (corei7_skylake_x) and must print the same text, bit
/// for bit, but for the lines listed in <see cref="OracleDeviations.CGuestLines"/>; each output must
/// also hold what <see cref="CGuestExpectations"/> derives independently. A guest that needs an
/// extension sim does not announce yet runs on QEMU and Bochs only and ends inconclusive.
/// </summary>
[TestClass]
public sealed class CGuestTests
{
    private const uint Sse42 = 1u << 20, Fma = 1u << 12, Xsave = 1u << 26, Avx = 1u << 28, Avx2 = 1u << 5;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void MatrixMultiplyWithSse2() =>
        RunEverywhere("matmul", output => StringAssert.Contains(output, CGuestExpectations.MatmulIntegerLine() + "\n"));

    [TestMethod]
    public void MandelbrotWithSse2() =>
        RunEverywhere("mandelbrot", output => Assert.AreEqual(CGuestExpectations.Mandelbrot(), output));

    [TestMethod]
    public void FftOnTheX87() =>
        RunEverywhere("fft", output =>
        {
            StringAssert.Contains(output, "impulse: all ones\n");
            StringAssert.Contains(output, CGuestExpectations.FftConvolutionLine() + "\n");
            AssertWithinOneUlp(Math.Cos(2 * Math.PI / 256), Value(output, "cos(2pi/N)"), "cos(2 pi / 256)");
            AssertWithinOneUlp(Math.Sin(2 * Math.PI / 256), Value(output, "sin(2pi/N)"), "sin(2 pi / 256)");
        });

    [TestMethod]
    public void LongDoubleAndTranscendentalsOnTheX87() =>
        RunEverywhere("x87", output =>
        {
            foreach (var (label, expected) in CGuestExpectations.X87ExactLines())
                Assert.AreEqual(expected, Value(output, label), label);
        }, simOutput =>
        {
            Assert.AreEqual("bfff:c59899e70ddcd92a -1.543719", Value(simOutput, "FYL2X(3, 0.7)"), "3 log2(0.7L) rounded to nearest (see OracleDeviations.CGuestLines)");
            // The exact values in units of the last place of the 64-bit significand, from 80-digit decimal series;
            // the SDM (vol. 1, 8.3.10) allows an error below 1 ulp.
            AssertWithinOneUlp(0xd76aa47848677020UL, 0.777, Value(simOutput, "FSIN(1)"), "sin 1");
            AssertWithinOneUlp(0x8a51407da8345c91UL, 0.759, Value(simOutput, "FCOS(1)"), "cos 1");
            AssertWithinOneUlp(0x8bda7adf9a3a5218UL, 0.737, Value(simOutput, "FPTAN(0.5)"), "tan 0.5");
            AssertWithinOneUlp(0x83126d290c530f70UL, 0.558, Value(simOutput, "FSIN(0.001)"), "sin 0.001L");
        });

    [TestMethod]
    public void Crc32cWithSse42() =>
        RunEverywhere("crc32c", output =>
        {
            StringAssert.Contains(output, "\"123456789\" crc32 u8 e3069283\n");
            Assert.AreEqual(CGuestExpectations.Crc32c(), output);
        }, requires: f => (f.Leaf1Ecx & Sse42) == Sse42 ? null : "SSE4.2 (CPUID.01H:ECX.SSE4_2[bit 20])");

    [TestMethod]
    public void Avx2AndFmaKernels() =>
        RunEverywhere("avx2fma", output => Assert.AreEqual(CGuestExpectations.Avx2Fma(), output),
            requires: f => (f.Leaf1Ecx & (Xsave | Avx | Fma)) == (Xsave | Avx | Fma) && (f.Leaf7Ebx & Avx2) == Avx2
                ? null
                : "XSAVE, AVX, FMA and AVX2 (CPUID.01H:ECX bits 26, 28, 12; CPUID.07H:EBX bit 5)");

    /// <summary>
    /// Runs the guest on the three emulators; checks both oracles against <paramref name="expect"/>
    /// and each other, then sim against both (and <paramref name="expectOfSim"/>).
    /// </summary>
    private void RunEverywhere(string name, Action<string> expect, Action<string>? expectOfSim = null,
        Func<(uint Leaf1Ecx, uint Leaf7Ebx), string?>? requires = null)
    {
        var guest = CGuest.Get(name);
        var qemuRun = Task.Run(() => CGuestRunner.OnQemu(guest));
        var bochsRun = Task.Run(() => CGuestRunner.OnBochs(guest));
        var missing = requires?.Invoke(CGuestRunner.SimFeatures());
        var sim = missing is null ? CGuestRunner.OnSim(guest) : null;
        var qemu = qemuRun.Result;
        var bochs = bochsRun.Result;
        TestContext.WriteLine($"sim:\n{sim?.Output}\nQEMU:\n{qemu.Output}\nBochs:\n{bochs.Output}");

        Assert.IsTrue(qemu.Exited, $"QEMU did not reach the exit port: {qemu.Diagnostics}\n{qemu.Output}");
        Assert.IsTrue(bochs.Exited, $"Bochs did not reach the shutdown port: {bochs.Diagnostics}\n{bochs.Output}");
        expect(qemu.Output);
        AssertSameButDeviations(name, qemu.Output, bochs.Output, "QEMU", "Bochs", Oracle.Qemu, Oracle.Bochs);
        if (missing is not null)
            Assert.Inconclusive($"sim does not announce {missing} yet: {name} ran on QEMU and Bochs only, which agree and print the expected results");

        Assert.IsTrue(sim!.Exited, $"sim did not reach the shutdown port: {sim.Diagnostics}\n{sim.Output}");
        AssertSameButDeviations(name, sim.Output, qemu.Output, "sim", "QEMU", Oracle.Qemu);
        AssertSameButDeviations(name, sim.Output, bochs.Output, "sim", "Bochs", Oracle.Bochs);
        expect(sim.Output);
        expectOfSim?.Invoke(sim.Output);
    }

    /// <summary>Line by line equality, but where <see cref="OracleDeviations.CGuestLines"/> lists the line for one of <paramref name="oracles"/>.</summary>
    private void AssertSameButDeviations(string name, string expected, string actual, string expectedName, string actualName, params Oracle[] oracles)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        Assert.AreEqual(e.Length, a.Length, $"{expectedName} and {actualName} print different numbers of lines:\n{expectedName}:\n{expected}\n{actualName}:\n{actual}");
        for (var i = 0; i < e.Length; i++)
        {
            if (e[i] == a[i]) continue;
            var deviation = OracleDeviations.CGuestLines.FirstOrDefault(d => d.Guest == name && oracles.Contains(d.Oracle) && e[i].StartsWith(d.Line + " ", StringComparison.Ordinal));
            Assert.IsNotNull(deviation.Reason, $"line {i + 1} differs: {expectedName} '{e[i]}', {actualName} '{a[i]}'");
            TestContext.WriteLine($"oracle deviation ({deviation.Oracle}): {deviation.Reason}");
        }
    }

    /// <summary>The text after <paramref name="label"/> on the line that starts with it.</summary>
    private static string Value(string output, string label)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(label + " ", StringComparison.Ordinal));
        Assert.IsNotNull(line, $"no line '{label}' in the output:\n{output}");
        return line[label.Length..].Trim();
    }

    /// <summary>The printed extended value's significand is within 1 ulp of the exact value <paramref name="floor"/> + <paramref name="fraction"/> (in ulps).</summary>
    private static void AssertWithinOneUlp(ulong floor, double fraction, string printed, string what)
    {
        var significand = ulong.Parse(printed.Split(' ')[0].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var distance = (double)(long)(significand - floor) - fraction;
        Assert.IsTrue(Math.Abs(distance) < 1, $"{what}: printed {printed}, {distance:F3} units in the last place from the exact value");
    }

    private static void AssertWithinOneUlp(double expected, string printed, string what)
    {
        var bits = ulong.Parse(printed.Split(' ')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var distance = Math.Abs((long)(bits - BitConverter.DoubleToUInt64Bits(expected)));
        Assert.IsTrue(distance <= 1, $"{what}: printed {printed}, the host's {expected:R} is {distance} units in the last place away");
    }
}
