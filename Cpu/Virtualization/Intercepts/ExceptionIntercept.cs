namespace Sim.Cpu.Virtualization;

/// <summary>
/// An exception about to be delivered: its vector and error code; <paramref name="Type"/> is
/// <see cref="EventType.HardwareException"/>, or <see cref="EventType.SoftwareException"/> for INT3
/// and INTO, <see cref="EventType.PrivilegedSoftwareException"/> for INT1; for #PF the faulting
/// address, which is not yet in CR2.
/// </summary>
public readonly record struct ExceptionIntercept(int Vector, uint ErrorCode, EventType Type, ulong FaultAddress);
