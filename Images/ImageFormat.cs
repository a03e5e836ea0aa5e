namespace Sim.Images;

public enum ImageFormat
{
    Auto,
    Raw,
    BootSector,
    Multiboot,
    Elf64,
}
