namespace Sim.Images.Formats;

/// <summary>A module as the information structure describes it: mod_start, mod_end (exclusive) and its string.</summary>
internal sealed record MultibootModule(uint ModStart, uint ModEnd, string String);
