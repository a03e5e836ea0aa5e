namespace Sim.Images;

/// <summary>
/// 32-bit flat protected mode with paging off, CS/DS/ES/SS flat 4 GiB segments and IF = 0:
/// the machine state of the Multiboot specification (section 3.2).
/// </summary>
public sealed record ProtectedModeEntry(uint Eip, uint Eax, uint Ebx) : EntryState;
