namespace Sim.Images;

/// <summary>64-bit mode; the platform identity-maps the first 4 GiB with 2 MiB pages and loads a flat 64-bit CS.</summary>
public sealed record LongModeEntry(ulong Rip, ulong Rdi, ulong Rsi) : EntryState;
