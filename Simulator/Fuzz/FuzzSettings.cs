using Sim.Platform;

namespace Sim.Fuzz;

/// <summary>How the harness runs cases.</summary>
public sealed record FuzzSettings
{
    public const ulong DefaultMaxInstructions = 50_000;

    /// <summary>The bound of each case's run.</summary>
    public ulong MaxInstructions { get; init; } = DefaultMaxInstructions;

    /// <summary>
    /// The bound of each case's simulated time, in cycles per instruction of <see cref="MaxInstructions"/>:
    /// a guest can spend cycles without retiring instructions (a fault whose handler faults again
    /// pushes a frame per cycle until its stack runs out; a HLT waits for the next timer tick).
    /// </summary>
    public ulong CyclesPerInstruction { get; init; } = 20;

    /// <summary>Called on each machine after it is built and before the image is loaded; tests inject faulty devices here.</summary>
    public Action<Machine>? PrepareMachine { get; init; }
}
