namespace Sim.Images;

/// <summary>How the CPU starts executing a boot image.</summary>
public abstract record EntryState;
