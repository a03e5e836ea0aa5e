namespace Sim.Images;

/// <summary>Real mode at CS:IP with DL = <paramref name="BootDrive"/> and FLAGS = 0x2, as a PC BIOS hands over to a boot sector.</summary>
public sealed record RealModeEntry(ushort Cs, ushort Ip, byte BootDrive) : EntryState;
