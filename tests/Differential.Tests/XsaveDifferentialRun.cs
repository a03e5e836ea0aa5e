using System.Text;

namespace Sim.Differential.Tests;

/// <summary>Runs XSAVE guests (<see cref="XsaveGuestBuilder"/>) on QEMU or Bochs and on sim and compares their records field by field.</summary>
public static class XsaveDifferentialRun
{
    /// <summary>QEMU's qemu64 with XSAVE, AVX, XSAVEOPT and XGETBV with ECX = 1 (its TCG has no XSAVEC or XSAVES).</summary>
    public const string QemuModel = "qemu64,vendor=GenuineIntel,+xsave,+avx,+xsaveopt,+xgetbv1";

    public const int CasesPerGuest = 150;

    public sealed record Result(int Cases, int Unknown, Dictionary<string, int> Known, List<string> Failures, string Report);

    /// <summary>A compared field: name, offset in the record, size, and the state component it belongs to (-1 for none).</summary>
    public static IEnumerable<(string Name, int Offset, int Size, int Component)> Fields(bool qemu, bool saveFormat32, bool reportFormat32)
    {
        foreach (var (prefix, at) in new[] { ("save", XsaveGuestBuilder.SaveOffset), ("report", XsaveGuestBuilder.ReportOffset) })
        {
            yield return ($"{prefix}.fcw", at, 2, 0);
            yield return ($"{prefix}.fsw", at + 2, 2, 0);
            yield return ($"{prefix}.ftw", at + 4, 1, 0);
            if (!qemu)
            {
                yield return ($"{prefix}.fop", at + 6, 2, 0);
                // The 32-bit format's FIP/FCS and FDP/FDS leave bytes 15:14 and 23:22 unused.
                if (prefix == "save" ? saveFormat32 : reportFormat32)
                {
                    yield return ($"{prefix}.fip", at + 8, 4, 0);
                    yield return ($"{prefix}.fcs", at + 12, 2, 0);
                    yield return ($"{prefix}.fdp", at + 16, 4, 0);
                    yield return ($"{prefix}.fds", at + 20, 2, 0);
                }
                else
                {
                    yield return ($"{prefix}.fip", at + 8, 8, 0);
                    yield return ($"{prefix}.fdp", at + 16, 8, 0);
                }
            }
            yield return ($"{prefix}.mxcsr", at + 24, 4, 1);
            yield return ($"{prefix}.mxcsr_mask", at + 28, 4, 1);
            for (var r = 0; r < 8; r++) yield return ($"{prefix}.st{r}", at + 32 + 16 * r, 10, 0);
            for (var r = 0; r < 16; r++)
            {
                yield return ($"{prefix}.xmm{r}.lo", at + 160 + 16 * r, 8, 1);
                yield return ($"{prefix}.xmm{r}.hi", at + 168 + 16 * r, 8, 1);
            }
            for (var q = 0; q < 6; q++) yield return ($"{prefix}.software+{8 * q}", at + 464 + 8 * q, 8, -1);
            yield return ($"{prefix}.xstate_bv", at + 512, 8, -1);
            yield return ($"{prefix}.xcomp_bv", at + 520, 8, -1);
            for (var q = 0; q < 6; q++) yield return ($"{prefix}.header+{16 + 8 * q}", at + 528 + 8 * q, 8, -1);
            for (var r = 0; r < 16; r++)
            {
                yield return ($"{prefix}.ymmh{r}.lo", at + 576 + 16 * r, 8, 2);
                yield return ($"{prefix}.ymmh{r}.hi", at + 584 + 16 * r, 8, 2);
            }
        }
        yield return ("xinuse.step", XsaveGuestBuilder.XinuseOffset, 8, -1);
        yield return ("xinuse.end", XsaveGuestBuilder.XinuseOffset + 8, 8, -1);
    }

    public static Result Run(int seed, int count, bool bochs, bool long64 = true)
    {
        if (bochs) BochsRunner.EnsureInstalled();
        else QemuRunner.EnsureInstalled();
        var oracleName = bochs ? "Bochs" : "QEMU";
        var report = new StringBuilder();
        var known = new Dictionary<string, int>();
        var failures = new List<string>();
        var unknown = 0;
        var shown = 0;
        for (var g = 0; g * CasesPerGuest < count; g++)
        {
            var generator = new XsaveCaseGenerator(seed * 1000 + g, compaction: bochs);
            var n = Math.Min(CasesPerGuest, count - g * CasesPerGuest);
            var cases = Enumerable.Range(0, n).Select(generator.Generate).ToList();
            var guest = XsaveGuestBuilder.Build(cases, long64);
            var oracleTask = Task.Run(() => bochs ? RunBochs(guest, n) : QemuRunner.Run(guest, TimeSpan.FromSeconds(120), QemuModel));
            var sim = SimRunner.Run(guest, 200_000_000);
            var oracle = oracleTask.Result;
            if (!oracle.Exited || oracle.DebugPortBytes.Length != n * XsaveGuestBuilder.RecordBytes)
            {
                failures.Add($"guest {g}: {oracleName} wrote {oracle.DebugPortBytes.Length / XsaveGuestBuilder.RecordBytes} of {n} records. {oracle.Diagnostics}");
                continue;
            }
            if (!sim.Exited || sim.DebugPortBytes.Length != n * XsaveGuestBuilder.RecordBytes)
            {
                var next = sim.DebugPortBytes.Length / XsaveGuestBuilder.RecordBytes;
                failures.Add($"guest {g}: sim wrote {next} of {n} records. {sim.Diagnostics}\n{(next < n ? cases[next].Describe() : "")}");
                continue;
            }
            for (var i = 0; i < n; i++)
            {
                var s = sim.DebugPortBytes.AsSpan(i * XsaveGuestBuilder.RecordBytes, XsaveGuestBuilder.RecordBytes);
                var o = oracle.DebugPortBytes.AsSpan(i * XsaveGuestBuilder.RecordBytes, XsaveGuestBuilder.RecordBytes);
                var differences = new List<(string Name, int Component)>();
                var text = new List<string>();
                foreach (var (name, offset, size, component) in Fields(!bochs, !long64 || cases[i].Form == XsaveForm.Xsave, !long64))
                {
                    if (s.Slice(offset, size).SequenceEqual(o.Slice(offset, size))) continue;
                    differences.Add((name, component));
                    text.Add($"{name}: sim {Hex(s.Slice(offset, size))} {oracleName} {Hex(o.Slice(offset, size))}");
                }
                if (differences.Count == 0) continue;
                if (!bochs && MxcsrWithAvxAlone(cases[i]) && differences.RemoveAll(d => d.Name.Contains("mxcsr")) > 0)
                {
                    known[XsaveOracleDeviations.QemuMxcsrWithAvx] = known.GetValueOrDefault(XsaveOracleDeviations.QemuMxcsrWithAvx) + 1;
                    if (differences.Count == 0) continue;
                }
                if (bochs && cases[i].Form is (XsaveForm.Xsavec64 or XsaveForm.Xsaves64) && ((Read(s, XsaveGuestBuilder.SaveOffset + 512, 8) & 2) == 0)
                    && differences.RemoveAll(d => d.Name.StartsWith("save.mxcsr")) > 0)
                {
                    known[XsaveOracleDeviations.BochsXsavecMxcsr] = known.GetValueOrDefault(XsaveOracleDeviations.BochsXsavecMxcsr) + 1;
                    if (differences.Count == 0) continue;
                }
                var zeroSelectors = new HashSet<string>();
                foreach (var (prefix, at) in new[] { ("save", XsaveGuestBuilder.SaveOffset), ("report", XsaveGuestBuilder.ReportOffset) })
                {
                    if (Read(o, at + 12, 2) == 0) zeroSelectors.Add(prefix + ".fcs");
                    if (Read(o, at + 20, 2) == 0) zeroSelectors.Add(prefix + ".fds");
                }
                if (bochs && differences.RemoveAll(d => zeroSelectors.Contains(d.Name)) > 0)
                {
                    known[XsaveOracleDeviations.BochsFcsFdsDeprecation] = known.GetValueOrDefault(XsaveOracleDeviations.BochsFcsFdsDeprecation) + 1;
                    if (differences.Count == 0) continue;
                }
                var mismatch = InitOptimizationMismatch(s, o, differences, cases[i], !bochs, long64 ? 16 : 8);
                if (mismatch == null)
                {
                    var reason = bochs ? XsaveOracleDeviations.BochsXinuse : XsaveOracleDeviations.QemuXinuse;
                    known[reason] = known.GetValueOrDefault(reason) + 1;
                    continue;
                }
                unknown++;
                if (shown++ < 20) report.Append(cases[i].Describe()).Append("\n  ").Append(string.Join("; ", text)).Append("\n  (").Append(mismatch).Append(")\n");
            }
        }
        if (!bochs) known[XsaveOracleDeviations.QemuX87Pointers] = count;
        else
        {
            known[XsaveOracleDeviations.BochsXsavecAvxOffset] = count;
            known[XsaveOracleDeviations.X87Format32Reserved] = count;
        }
        var head = $"XSAVE ({(long64 ? "64-bit" : "32-bit")}) against {oracleName}: {count} cases, {unknown} divergences\n";
        foreach (var (reason, n) in known) head += $"  oracle deviation ({n}x): {reason}\n";
        foreach (var f in failures) head += f + "\n";
        return new Result(count, unknown, known, failures, head + report);
    }

    /// <summary>Whether an XSAVE or XRSTOR of the case has AVX but not SSE in its mask (the standard form's MXCSR rule).</summary>
    private static bool MxcsrWithAvxAlone(XsaveCase c) =>
        new[] { c.RestoreMask, c.SaveMask, c.SecondMask }.Any(m => (m & 6) == 4);

    /// <summary>
    /// Whether every difference is one the init optimization allows: an XINUSE or XSTATE_BV bit of a component that is in its
    /// initial configuration (in the image that shows it), and that component's data in the save area written by one side
    /// (the init values) and not by the other, which XSAVEOPT and XSAVEC may do for a component not in use.
    /// </summary>
    private static string? InitOptimizationMismatch(ReadOnlySpan<byte> sim, ReadOnlySpan<byte> oracle, List<(string Name, int Component)> differences, XsaveCase c, bool qemu, int registers)
    {
        var saveBits = Read(sim, XsaveGuestBuilder.SaveOffset + 512, 8) ^ Read(oracle, XsaveGuestBuilder.SaveOffset + 512, 8);
        var reportBits = Read(sim, XsaveGuestBuilder.ReportOffset + 512, 8) ^ Read(oracle, XsaveGuestBuilder.ReportOffset + 512, 8);
        var stepBits = Read(sim, XsaveGuestBuilder.XinuseOffset, 8) ^ Read(oracle, XsaveGuestBuilder.XinuseOffset, 8);
        var endBits = Read(sim, XsaveGuestBuilder.XinuseOffset + 8, 8) ^ Read(oracle, XsaveGuestBuilder.XinuseOffset + 8, 8);
        if (((saveBits | reportBits | stepBits | endBits) & ~7UL) != 0) return "an XSTATE_BV or XINUSE bit outside the components differs";
        foreach (var (name, component) in differences)
        {
            if (name is "xinuse.step" or "xinuse.end" or "report.xstate_bv" or "save.xstate_bv") continue;
            // The save area's data of a component one side saved and the other did not; MXCSR goes with SSE state only in the compacted form.
            if (!name.StartsWith("save.") || component < 0 || ((saveBits >> component) & 1) == 0) return $"{name} differs beyond the init optimization";
            if (name.StartsWith("save.mxcsr") && c.Form is not (XsaveForm.Xsavec64 or XsaveForm.Xsaves64)) return $"{name} differs in a standard-format save";
        }
        for (var i = 0; i < 3; i++)
        {
            if ((((saveBits | reportBits | stepBits | endBits) >> i) & 1) == 0) continue;
            // The component's values: in the report (XSAVE64 writes them whatever XINUSE) and, for a save-area difference, in the side that saved it.
            if (!Initial(sim[XsaveGuestBuilder.ReportOffset..], i, qemu || registers == 8, registers)) return $"component {i}'s XINUSE differs but it is not in its initial configuration at the end";
            if (((saveBits >> i) & 1) != 0)
            {
                var saver = ((Read(sim, XsaveGuestBuilder.SaveOffset + 512, 8) >> i) & 1) != 0 ? sim : oracle;
                if (!Initial(saver[XsaveGuestBuilder.SaveOffset..], i, qemu || registers == 8 || c.Form == XsaveForm.Xsave, registers))
                    return $"component {i}'s XSTATE_BV differs but it was not in its initial configuration when saved";
            }
        }
        return null;
    }

    /// <summary>
    /// Whether component <paramref name="component"/> of a standard-format image is in its initial configuration (SDM vol. 1, 13.6),
    /// over the <paramref name="registers"/> XMM/YMM registers of the mode; the x87 pointers are not looked at with QEMU
    /// (<see cref="XsaveOracleDeviations.QemuX87Pointers"/>) or in the 32-bit format (whose selectors Bochs does not keep).
    /// </summary>
    private static bool Initial(ReadOnlySpan<byte> image, int component, bool skipPointers, int registers) => component switch
    {
        0 => Read(image, 0, 2) == 0x037F && Read(image, 2, 2) == 0 && image[4] == 0 && (skipPointers || image[6..24].IndexOfAnyExcept((byte)0) < 0)
            && RegistersZero(image),
        1 => image.Slice(160, 16 * registers).IndexOfAnyExcept((byte)0) < 0,
        _ => image.Slice(576, 16 * registers).IndexOfAnyExcept((byte)0) < 0,
    };

    private static bool RegistersZero(ReadOnlySpan<byte> image)
    {
        for (var r = 0; r < 8; r++)
            if (image.Slice(32 + 16 * r, 10).IndexOfAnyExcept((byte)0) >= 0) return false;
        return true;
    }

    /// <summary>Little-endian bytes as one hexadecimal number.</summary>
    private static string Hex(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        for (var i = bytes.Length - 1; i >= 0; i--) sb.Append(bytes[i].ToString("x2"));
        return sb.ToString();
    }

    /// <summary>Bochs boots the guest from a floppy; its records follow the relocator's marker in its standard output.</summary>
    private static GuestOutput RunBochs(Guest guest, int cases)
    {
        var run = BochsRunner.RunFloppy(BochsFloppy.Create(guest), BochsRunner.IntelModel, TimeSpan.FromSeconds(300));
        var start = run.Stdout.AsSpan().IndexOf(BochsFloppy.RecordsMarker);
        if (start < 0) return new GuestOutput([], false, run.Diagnostics);
        start += BochsFloppy.RecordsMarker.Length;
        var length = Math.Min(cases * XsaveGuestBuilder.RecordBytes, run.Stdout.Length - start);
        return new GuestOutput(run.Stdout.AsSpan(start, length).ToArray(), run.Exited, run.Diagnostics);
    }

    public static ulong Read(ReadOnlySpan<byte> record, int offset, int size)
    {
        ulong v = 0;
        for (var i = 0; i < size && i < 8; i++) v |= (ulong)record[offset + i] << (8 * i);
        return v;
    }
}
