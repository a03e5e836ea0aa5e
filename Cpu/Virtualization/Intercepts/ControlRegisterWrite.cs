namespace Sim.Cpu.Virtualization;

/// <summary>
/// A write of <paramref name="Value"/> to CR<paramref name="Register"/>. A unit that declines the
/// intercept may replace <paramref name="Value"/> in the intercept it was given (guest/host masks
/// keep bits the host owns), and the processor writes that value.
/// </summary>
public readonly record struct ControlRegisterWrite(int Register, ulong Value, ControlRegisterWriteSource Source);
