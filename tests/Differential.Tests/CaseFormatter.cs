using System.Text;
using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>Readable descriptions of cases and divergences for failure messages.</summary>
public static class CaseFormatter
{
    public static string Disassemble(TestCase c)
    {
        var sb = new StringBuilder();
        var decoder = Iced.Intel.Decoder.Create(c.Mode.Bitness(), c.Code, c.StepAddresses[0]);
        var formatter = new NasmFormatter();
        var output = new StringOutput();
        while (decoder.IP < c.StepAddresses[0] + (ulong)c.Code.Length)
        {
            var start = decoder.IP;
            decoder.Decode(out var ins);
            formatter.Format(ins, output);
            var bytes = c.Code.AsSpan((int)(start - c.StepAddresses[0]), ins.Length).ToArray();
            sb.Append($"    {start:x8}  {Convert.ToHexString(bytes),-24} {output.ToStringAndReset()}\n");
        }
        return sb.ToString();
    }

    public static string Describe(TestCase c)
    {
        var sb = new StringBuilder();
        sb.Append($"case {c.Index} ({c.Mode}, {c.Kind}):\n");
        sb.Append(Disassemble(c));
        sb.Append("  inputs:");
        for (var r = 0; r < c.Mode.RegisterCount(); r++)
            sb.Append($" {RecordComparer.RegisterName(c.Mode, r)}={c.Registers[r]:x}");
        sb.Append($" eflags={c.Flags:x}\n");
        sb.Append("  memory overrides (scratch offset=dword):");
        foreach (var (o, v) in c.MemoryOverrides) sb.Append($" {o:x}={v:x8}");
        sb.Append('\n');
        return sb.ToString();
    }

    public static string Describe(IEnumerable<Divergence> divergences)
    {
        var sb = new StringBuilder();
        foreach (var group in divergences.GroupBy(d => d.Case))
        {
            sb.Append(Describe(group.Key));
            foreach (var d in group) sb.Append($"  {d.Field}: sim={d.Sim:x} {d.Oracle.ToString().ToLowerInvariant()}={d.Reference:x}\n");
        }
        return sb.ToString();
    }
}
