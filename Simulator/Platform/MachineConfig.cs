using Sim.Cpu;
using Sim.Cpu.Timing;
using Sim.Platform.Devices;
using Sim.Platform.Time;

namespace Sim.Platform;

/// <summary>What the simulated PC is made of.</summary>
public sealed record MachineConfig
{
    /// <summary>Processors; CPU 0 boots, the others wait for a SIPI.</summary>
    public int Cpus { get; init; } = 1;

    public ulong MemoryBytes { get; init; } = 64UL << 20;

    /// <summary>
    /// Whose processors the machine has: Intel's carry a VT-x unit on every processor, AMD's an
    /// AMD-V unit; CPUID reports the vendor and its virtualization feature.
    /// </summary>
    public CpuVendor Vendor { get; init; } = CpuVendor.Intel;

    /// <summary>
    /// Whether the firmware of sim's boot paths leaves IA32_FEATURE_CONTROL locked with VMX enabled on
    /// an Intel machine (the default, as PC firmware does); false leaves it at 0, so that VMXON raises #GP
    /// until the guest enables and locks it. A ROM of <see cref="Machine.LoadBios"/> programs it itself.
    /// </summary>
    public bool FeatureControlLocked { get; init; } = true;

    /// <summary>
    /// Ends the run with <see cref="RunOutcome.InstructionLimit"/> once this many instructions have
    /// retired on all processors together, each exception delivered counting as one too, so that a
    /// guest whose handler faults at once, retiring nothing, is bounded as well.
    /// </summary>
    public ulong? MaxInstructions { get; init; }

    /// <summary>
    /// Where COM1's output bytes go (and the 0xE9 debug console's, unless <see cref="DebugConsole"/> is
    /// set). The machine flushes it between quanta.
    /// </summary>
    public Stream Console { get; init; } = Stream.Null;

    /// <summary>
    /// Where the 0xE9 debug console's bytes go; null sends them to <see cref="Console"/>. Guests that
    /// write every line to both COM1 and 0xE9 (the Images project's built-in guests do) need a
    /// separate stream here, or <see cref="Stream.Null"/>, to avoid printing everything twice.
    /// </summary>
    public Stream? DebugConsole { get; init; }

    /// <summary>Bytes COM1 receives, in order.</summary>
    public Queue<byte>? SerialInput { get; init; }

    /// <summary>
    /// Cycles per simulated second, the time base of every device (1 GHz: a cycle is a nanosecond); the
    /// TSC ticks once per cycle and every processor announces this rate (CPUID 15h/16h, MSR_PLATFORM_INFO).
    /// </summary>
    public ulong CpuFrequencyHz { get; init; } = MachineClock.DefaultFrequencyHz;

    /// <summary>The date and time the RTC shows at cycle 0.</summary>
    public DateTime RtcStart { get; init; } = RtcMc146818.DefaultStartTime;

    /// <summary>
    /// The modeled cycles of VM exits and entries, VMX and SVM instructions and the host software's
    /// operations; every processor's virtualization unit charges from it, and kernel models read it.
    /// </summary>
    public CostModel Costs { get; init; } = CostModel.Default;

    /// <summary>The most cycles a processor runs before the scheduler looks at the others and at device events.</summary>
    public ulong QuantumCycles { get; init; } = 10_000;
}
