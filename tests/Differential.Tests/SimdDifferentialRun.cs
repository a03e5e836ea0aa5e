using System.Text;

namespace Sim.Differential.Tests;

/// <summary>Runs SIMD guests on QEMU and sim and compares their records field by field; the AVX guests run on QEMU's <c>-cpu max</c>.</summary>
public static class SimdDifferentialRun
{
    /// <summary>At most what a Bochs floppy holds in 64-bit mode, so that any guest can be rerun there.</summary>
    public const int CasesPerGuest = 300;

    /// <summary>An AVX case carries its YMM upper halves and the code that loads and records them: fewer fit a floppy.</summary>
    public const int AvxCasesPerGuest = 200;

    public sealed record Result(int Cases, int Unknown, Dictionary<string, int> Known, List<string> Failures, string Report);

    /// <summary>QEMU 7.2's TCG model with every feature it emulates, AVX and AVX2 among them.</summary>
    public const string AvxQemuModel = "max";

    /// <summary>
    /// A compared field of a record: its name, offset and size in bytes; an AVX record adds bits 255:128 of each YMM register,
    /// an x87 record the sign and exponent of each ST register and names R8's slot "vector" (the fault that ended the case);
    /// with <paramref name="pointers"/> (x87 records from Bochs) FOP and the offset of FIP are compared too.
    /// </summary>
    public static IEnumerable<(string Name, int Offset, int Size)> Fields(bool avx = false, bool x87 = false, bool pointers = false)
    {
        yield return ("fcw", 0, 2);
        yield return ("fsw", 2, 2);
        yield return ("ftw", 4, 1);
        // Bytes 6–23 (FOP, FIP, FCS, FDP, FDS): QEMU keeps no x87 pointers and stores zeros; SSE/MMX instructions leave them.
        // Bochs' Skylake model announces FDP_EXCPTN_ONLY and the deprecated FCS/FDS (CPUID.(EAX=7):EBX[6, 13]), which sim does
        // not: its FDP, FCS and FDS differ by design; FOP and FIP's offset are the same in both models.
        if (pointers)
        {
            yield return ("fop", 6, 2);
            yield return ("fip", 8, 4);
        }
        yield return ("mxcsr", 24, 4);
        yield return ("mxcsr_mask", 28, 4);
        for (var r = 0; r < 8; r++) yield return ($"st{r}", 32 + 16 * r, 8);
        if (x87)
            for (var r = 0; r < 8; r++) yield return ($"st{r}.exp", 40 + 16 * r, 2);
        for (var r = 0; r < 16; r++)
        {
            yield return ($"xmm{r}.lo", 160 + 16 * r, 8);
            yield return ($"xmm{r}.hi", 168 + 16 * r, 8);
        }
        yield return ("eflags", SimdGuestBuilder.FlagsOffset, 8);
        string[] gprs = ["rax", "rcx", "rdx", "rbx", "r8", "r9", "r10"];
        for (var r = 0; r < gprs.Length; r++) yield return (x87 && r == 4 ? "vector" : gprs[r], SimdGuestBuilder.RegistersOffset + 8 * r, 8);
        for (var q = 0; q < 8; q++) yield return ($"mem+{q * 8}", SimdGuestBuilder.MemoryOffset + 8 * q, 8);
        if (!avx) yield break;
        for (var r = 0; r < 16; r++)
        {
            yield return ($"ymm{r}.hi.lo", SimdGuestBuilder.UpperOffset + 16 * r, 8);
            yield return ($"ymm{r}.hi.hi", SimdGuestBuilder.UpperOffset + 16 * r + 8, 8);
        }
    }

    /// <summary>
    /// Runs on QEMU (or, with <paramref name="bochs"/>, on Bochs) and sim; <paramref name="avx"/> draws VEX-encoded cases;
    /// <paramref name="sse4"/> draws from the SSSE3 … PCLMULQDQ pools (with <paramref name="avx"/>, their VEX forms);
    /// <paramref name="avx2"/> draws FMA3, F16C and AVX2-own cases (<see cref="SimdCaseGenerator.GenerateAvx2"/>) on the AVX guest.
    /// </summary>
    public static Result Run(int seed, int count, bool bochs = false, bool long64 = false, bool avx = false, bool avx2 = false, bool sse4 = false, bool x87 = false)
    {
        avx |= avx2;
        var recordBytes = SimdGuestBuilder.RecordBytesOf(avx);
        if (bochs) BochsRunner.EnsureInstalled();
        else QemuRunner.EnsureInstalled();
        var oracleName = bochs ? "Bochs" : "QEMU";
        var report = new StringBuilder();
        var known = new Dictionary<string, int>();
        var failures = new List<string>();
        var unknown = 0;
        var faulted = 0;
        var shown = 0;
        var perGuest = avx ? AvxCasesPerGuest : CasesPerGuest;
        for (var g = 0; g * perGuest < count; g++)
        {
            var generator = sse4 ? SimdCaseGenerator.Sse4(seed * 1000 + g, long64) : new SimdCaseGenerator(seed * 1000 + g, long64);
            var n = Math.Min(perGuest, count - g * perGuest);
            var cases = Enumerable.Range(0, n)
                .Select(i => x87 ? generator.GenerateX87(i, SimdGuestBuilder.MemoryAddress(i)) : avx2 ? generator.GenerateAvx2(i, SimdGuestBuilder.MemoryAddress(i, avx))
                    : avx ? generator.GenerateAvx(i, SimdGuestBuilder.MemoryAddress(i, avx)) : generator.Generate(i, SimdGuestBuilder.MemoryAddress(i)))
                .ToList();
            var guest = SimdGuestBuilder.Build(cases, long64, avx, faults: x87);
            var qemuTask = Task.Run(() => bochs ? RunBochs(guest, n, recordBytes)
                : QemuRunner.Run(guest, TimeSpan.FromSeconds(120), avx ? AvxQemuModel : QemuRunner.CpuModel));
            var sim = SimRunner.Run(guest, 500_000_000);
            var qemu = qemuTask.Result;
            byte[]? bochsRecords = null;
            var bochsTried = false;
            if (!qemu.Exited || qemu.DebugPortBytes.Length != n * recordBytes)
            {
                failures.Add($"guest {g}: {oracleName} wrote {qemu.DebugPortBytes.Length / recordBytes} of {n} records. {qemu.Diagnostics}");
                continue;
            }
            if (!sim.Exited || sim.DebugPortBytes.Length != n * recordBytes)
            {
                var next = sim.DebugPortBytes.Length / recordBytes;
                failures.Add($"guest {g}: sim wrote {next} of {n} records. {sim.Diagnostics}\n{(next < n ? cases[next].Describe() : "")}");
                continue;
            }
            for (var i = 0; i < n; i++)
            {
                if (x87 && Read(sim.DebugPortBytes.AsSpan(i * recordBytes, recordBytes), SimdGuestBuilder.VectorOffset, 8) != ulong.MaxValue) faulted++;
                var s = sim.DebugPortBytes.AsSpan(i * recordBytes, recordBytes);
                var q = qemu.DebugPortBytes.AsSpan(i * recordBytes, recordBytes);
                var differences = new List<string>();
                foreach (var (name, offset, size) in Fields(avx, x87, pointers: x87 && bochs))
                {
                    var (sv, qv) = Values(s, q, name, offset, size);
                    if (sv != qv) differences.Add($"{name}: sim {sv:x} {oracleName} {qv:x}");
                }
                if (differences.Count == 0) continue;
                var c = cases[i];
                if ((bochs ? SimdOracleDeviations.MatchBochs(c, s, q) : SimdOracleDeviations.Match(c, s, q)) is { } reason)
                {
                    known[reason] = known.GetValueOrDefault(reason) + 1;
                    continue;
                }
                if (!bochs && BochsConfirms(guest, n, i, c, s, q, ref bochsRecords, ref bochsTried) is { } confirmed)
                {
                    known[confirmed] = known.GetValueOrDefault(confirmed) + 1;
                    continue;
                }
                unknown++;
                if (shown++ >= 20) continue;
                report.Append(c.Describe()).Append("\n  ").Append(string.Join("; ", differences)).Append('\n');
                if (bochsRecords != null)
                {
                    var b = bochsRecords.AsSpan(i * recordBytes, recordBytes);
                    var fromBochs = new List<string>();
                    foreach (var (name, offset, size) in Fields(avx, x87, pointers: x87))
                        if (Values(s, b, name, offset, size) is var (sv, bv) && sv != bv) fromBochs.Add($"{name}: sim {sv:x} Bochs {bv:x}");
                    report.Append("  against Bochs: ").Append(string.Join("; ", fromBochs)).Append('\n');
                }
            }
        }
        var head = $"{(x87 ? "x87" : avx ? "AVX" : "SIMD")} ({(long64 ? "64-bit" : "32-bit")}) against {oracleName}: {count} cases, {unknown} divergences{(x87 ? $", {faulted} ended by a fault (#MF), {SimdCaseGenerator.X87Pool32.Length} encodings (32-bit), {SimdCaseGenerator.X87Pool64.Length} (64-bit)" : "")}\n";
        foreach (var (reason, n) in known) head += $"  oracle deviation ({n}x): {reason}\n";
        foreach (var f in failures) head += f + "\n";
        return new Result(count, unknown, known, failures, head + report);
    }

    /// <summary>
    /// A divergence from QEMU that no listed deviation explains is decided by the other oracle: the guest is rerun on
    /// Bochs (once per guest), and where Bochs gives sim's record the case counts as QEMU's deviation.
    /// </summary>
    private static string? BochsConfirms(Guest guest, int cases, int index, SimdCase c, ReadOnlySpan<byte> sim, ReadOnlySpan<byte> qemu, ref byte[]? records, ref bool tried)
    {
        if (!File.Exists(BochsRunner.Binary)) return null;
        var avx = c.Upper != null;
        var recordBytes = SimdGuestBuilder.RecordBytesOf(avx);
        if (!tried)
        {
            tried = true;
            var run = RunBochs(guest, cases, recordBytes);
            if (run.Exited && run.DebugPortBytes.Length == cases * recordBytes) records = run.DebugPortBytes;
        }
        if (records == null) return null;
        var b = records.AsSpan(index * recordBytes, recordBytes);
        var differs = false;
        foreach (var (name, offset, size) in Fields(avx, c.X87, pointers: c.X87))
        {
            var (sv, bv) = Values(sim, b, name, offset, size);
            differs |= sv != bv;
        }
        if (differs && SimdOracleDeviations.MatchBochs(c, sim, b) == null) return null;
        return c.X87 ? SimdOracleDeviations.X87QemuReason(c, sim, qemu) : SimdOracleDeviations.ConfirmedByBochs;
    }

    /// <summary>Bochs boots the guest from a floppy; its records follow the relocator's marker in its standard output.</summary>
    private static GuestOutput RunBochs(Guest guest, int cases, int recordBytes)
    {
        var run = BochsRunner.RunFloppy(BochsFloppy.Create(guest), BochsRunner.IntelModel, TimeSpan.FromSeconds(300));
        var start = run.Stdout.AsSpan().IndexOf(BochsFloppy.RecordsMarker);
        if (start < 0) return new GuestOutput([], false, run.Diagnostics);
        start += BochsFloppy.RecordsMarker.Length;
        var length = Math.Min(cases * recordBytes, run.Stdout.Length - start);
        return new GuestOutput(run.Stdout.AsSpan(start, length).ToArray(), run.Exited, run.Diagnostics);
    }

    /// <summary>A field of both records; of EFLAGS only the status flags count (an SSE instruction changes no other).</summary>
    public static (ulong Sim, ulong Qemu) Values(ReadOnlySpan<byte> sim, ReadOnlySpan<byte> qemu, string name, int offset, int size)
    {
        var mask = name == "eflags" ? 0x8D5UL : ulong.MaxValue;
        return (Read(sim, offset, size) & mask, Read(qemu, offset, size) & mask);
    }

    public static ulong Read(ReadOnlySpan<byte> record, int offset, int size)
    {
        ulong v = 0;
        for (var i = 0; i < size && i < 8; i++) v |= (ulong)record[offset + i] << (8 * i);
        return v;
    }
}
