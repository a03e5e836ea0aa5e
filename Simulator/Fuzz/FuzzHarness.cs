using Sim.Images;
using Sim.Platform;
using Sim.Platform.Time;

namespace Sim.Fuzz;

/// <summary>
/// Builds each case from its seed and index, runs it in-process on a fresh <see cref="Machine"/>
/// bounded by <see cref="FuzzSettings.MaxInstructions"/>, and classifies how it ended: every
/// <see cref="RunOutcome"/> is fine, an <see cref="ImageFormatException"/> from a loader or an
/// <see cref="ImagePlacementException"/> from <see cref="Machine.Load"/> is an accepted rejection, and any other exception escaping the loader, <see cref="Machine.Load"/> or
/// <see cref="Machine.Run"/> is a host-side failure.
/// </summary>
public sealed class FuzzHarness(FuzzSettings settings)
{
    public FuzzSettings Settings { get; } = settings;

    /// <summary>Cases <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1 of one kind, or of all kinds in turn.</summary>
    public IEnumerable<CaseResult> Run(ulong seed, int first, int count, FuzzKind? kind)
    {
        for (var i = first; i < first + count; i++) yield return Run(FuzzCase.Of(seed, i, kind));
    }

    public CaseResult Run(FuzzCase fuzzCase)
    {
        FuzzProgram program;
        try
        {
            program = CaseGenerator.Generate(fuzzCase, Settings);
        }
        catch (Exception e)
        {
            return Failed(fuzzCase, "(not built)", HostFailure.From("build", e));
        }

        BootImage image;
        if (program.Image is { } ready)
        {
            image = ready;
        }
        else
        {
            try
            {
                image = ImageLoader.Load(program.ImageBytes ?? [], "fuzz.img", program.LoadOptions ?? new ImageLoadOptions(MemorySize: program.MemoryBytes));
            }
            catch (ImageFormatException e)
            {
                return new CaseResult(fuzzCase, program.Description, null, 0, 0, 0, e.Message, null);
            }
            catch (Exception e)
            {
                return Failed(fuzzCase, program.Description, HostFailure.From("loader", e));
            }
        }

        var config = new MachineConfig
        {
            MemoryBytes = program.MemoryBytes,
            Vendor = program.Vendor,
            MaxInstructions = Settings.MaxInstructions,
            Console = Stream.Null,
            DebugConsole = Stream.Null,
        };
        using var machine = new Machine(config);
        Settings.PrepareMachine?.Invoke(machine);
        try
        {
            machine.Load(image);
        }
        catch (ImagePlacementException e)
        {
            return new CaseResult(fuzzCase, program.Description, null, 0, 0, 0, e.Message, null);
        }
        catch (Exception e)
        {
            return Failed(fuzzCase, program.Description, HostFailure.From("load", e));
        }

        var cycleBound = Settings.MaxInstructions * Settings.CyclesPerInstruction;
        var boundHit = false;
        var watchdog = new TimerEvent("fuzz cycle bound", _ =>
        {
            boundHit = true;
            machine.Control.RequestExit(RunOutcome.InstructionLimit, RunResult.InstructionLimitExitCode, $"fuzz cycle bound of {cycleBound} reached");
        });
        machine.Clock.Arm(watchdog, cycleBound);
        try
        {
            var result = machine.Run();
            return new CaseResult(fuzzCase, program.Description, result.Outcome, result.Instructions, result.Cycles, machine.VmExits, null, null, result.Message)
            {
                CycleBound = boundHit,
            };
        }
        catch (Exception e)
        {
            return Failed(fuzzCase, program.Description, HostFailure.From("run", e), machine);
        }
    }

    private static CaseResult Failed(FuzzCase fuzzCase, string description, HostFailure failure, Machine? machine = null) =>
        new(fuzzCase, description, null, machine?.InstructionsRetired ?? 0, 0, 0, null, failure);
}
