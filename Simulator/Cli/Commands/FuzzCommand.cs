using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Sim.Fuzz;
using Spectre.Console;

namespace Sim.Cli.Commands;

/// <summary>
/// `sim fuzz`: runs generated cases (random guests in every mode, hypervisors with random VMCSs and
/// VMCBs, random BIOS calls, random port I/O and MMIO, mutated images) in-process and reports any
/// .NET exception that escapes the simulator. Exit status 0 when none did, 1 otherwise.
/// </summary>
public sealed class FuzzCommand(ConsoleStreams console)
{
    /// <summary>Exit status when a case made the simulator fail on the host side.</summary>
    public const int FailureFound = 1;

    private readonly Option<ulong> _seed = new("--seed") { Description = "Seed of the run; the same seed gives the same cases.", DefaultValueFactory = _ => 1 };
    private readonly Option<int> _count = new("--count") { Description = "Number of cases.", DefaultValueFactory = _ => 1000 };
    private readonly Option<int?> _case = new("--case") { Description = "Run only this case index (the repro of a failure line)." };
    private readonly Option<FuzzKind?> _kind = new("--kind") { Description = $"Only this kind of case: {string.Join(", ", Enum.GetNames<FuzzKind>())}; all in turn by default." };
    private readonly Option<ulong> _maxInstructions = new("--max-instructions") { Description = "Instruction bound of each case.", DefaultValueFactory = _ => FuzzSettings.DefaultMaxInstructions };
    private readonly Option<bool> _json = new("--json") { Description = "Print the summary and the failures as JSON on stdout." };

    private CaseResult? _last;

    public Command Create()
    {
        var command = new Command("fuzz", "Run generated guests, hypervisors, BIOS calls, device accesses and mutated images; report host-side failures.")
        {
            _seed, _count, _case, _kind, _maxInstructions, _json,
        };
        command.SetAction(parse => Execute(parse));
        return command;
    }

    private int Execute(ParseResult parse)
    {
        var seed = parse.GetValue(_seed);
        var count = parse.GetValue(_count);
        var single = parse.GetValue(_case);
        var kind = parse.GetValue(_kind);
        var maxInstructions = parse.GetValue(_maxInstructions);
        if (count < 0) throw new UserInputException($"--count must not be negative, not {count}");
        if (single is < 0) throw new UserInputException($"--case must not be negative, not {single}");
        if (maxInstructions == 0) throw new UserInputException("--max-instructions must be positive");
        var (first, total) = single is { } index ? (index, 1) : (0, count);

        var harness = new FuzzHarness(new FuzzSettings { MaxInstructions = maxInstructions });
        var summary = new FuzzSummary();
        var json = parse.GetValue(_json);
        var progress = new ProgressLine(console.Error, total);
        foreach (var result in harness.Run(seed, first, total, kind))
        {
            summary.Add(result);
            _last = result;
            if (result.Failed && !json) console.Error.WriteLine($"sim: {result.FailureLine}");
            progress.Update(summary.Cases, summary.Failures.Count);
        }

        if (json) PrintJson(seed, kind, maxInstructions, summary);
        else PrintTable(summary, single != null);
        return summary.Failures.Count == 0 ? 0 : FailureFound;
    }

    /// <summary>A progress line on standard error about every tenth of the run (no terminal needed, nothing in the way of stdout).</summary>
    private sealed class ProgressLine(TextWriter error, int total)
    {
        private int _next = Math.Max(1, total / 10);

        public void Update(int done, int failures)
        {
            if (done < _next && done != total) return;
            _next = done + Math.Max(1, total / 10);
            error.WriteLine($"sim: fuzz {done}/{total} cases, {failures} host-side failure(s)");
        }
    }

    private void PrintTable(FuzzSummary summary, bool single)
    {
        var outcomes = Enum.GetValues<Sim.Platform.RunOutcome>();
        var table = new Table().Border(TableBorder.Rounded).AddColumn("kind").AddColumn(new TableColumn("cases").RightAligned());
        foreach (var o in outcomes) table.AddColumn(new TableColumn(o.ToString()).RightAligned());
        table.AddColumn(new TableColumn("cycle bound").RightAligned()).AddColumn(new TableColumn("rejected").RightAligned()).AddColumn(new TableColumn("failures").RightAligned());
        foreach (var k in summary.Kinds)
        {
            var row = new List<string> { k.Kind.ToString(), Number(k.Cases) };
            row.AddRange(outcomes.Select(o => Number(k.Outcomes.GetValueOrDefault(o))));
            row.Add(Number(k.CycleBounds));
            row.Add(Number(k.Rejections));
            row.Add(Number(k.Failures));
            table.AddRow(row.ToArray());
        }
        var stdout = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Text), ColorSystem = ColorSystemSupport.NoColors });
        stdout.Profile.Width = 200;
        stdout.Write(table);
        foreach (var failure in summary.Failures) console.Text.WriteLine(failure.FailureLine);
        if (single && summary.Failures.Count > 0)
            foreach (var frame in summary.Failures[0].Failure!.TopFrames) console.Text.WriteLine($"    {frame}");
        if (single && _last is { } last)
            console.Text.WriteLine($"{last.Description}: {(last.Outcome?.ToString() ?? last.Rejection ?? "failed")}, {last.Instructions} instructions, {last.Cycles} cycles, {last.VmExits} VM exits; {last.Message}");
        console.Text.WriteLine($"{summary.Cases} cases, {summary.Failures.Count} host-side failure(s)");
    }

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    private void PrintJson(ulong seed, FuzzKind? kind, ulong maxInstructions, FuzzSummary summary)
    {
        var document = new
        {
            seed,
            kind = kind?.ToString() ?? "all",
            maxInstructions,
            cases = summary.Cases,
            failures = summary.Failures.Count,
            kinds = summary.Kinds.Select(k => new
            {
                kind = k.Kind.ToString(),
                cases = k.Cases,
                outcomes = k.Outcomes.ToDictionary(o => o.Key.ToString(), o => o.Value),
                cycleBounds = k.CycleBounds,
                rejections = k.Rejections,
                failures = k.Failures,
                instructions = k.Instructions,
                vmExits = k.VmExits,
            }),
            hostFailures = summary.Failures.Select(f => new
            {
                kind = f.Case.Kind.ToString(),
                index = f.Case.Index,
                reproduce = f.Case.Reproduce,
                phase = f.Failure!.Phase,
                exception = f.Failure.ExceptionType,
                message = f.Failure.Message,
                frames = f.Failure.TopFrames,
                description = f.Description,
            }),
        };
        console.Text.WriteLine(JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
    }
}
