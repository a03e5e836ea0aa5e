namespace Sim.Cpu.Bus;

/// <summary>
/// A device whose bytes never change, such as a firmware ROM: code fetched from it is decoded once
/// and cached as code in RAM is, since no write can change it (the device ignores writes).
/// </summary>
public interface IReadOnlyMemoryDevice : IMmioDevice;
