using Sim.Images;
using Sim.Platform.Firmware;

namespace Sim.Cli;

/// <summary>Turns the run command's image options into a boot image: a file through the loaders, or a built-in guest.</summary>
public sealed class ImageResolver(GuestCatalog guests)
{
    public BootImage Resolve(RunSettings settings)
    {
        if (settings.ImagePath != null)
        {
            if (settings.Guest != null) throw new UserInputException("give either an image file or --guest, not both");
            var options = new ImageLoadOptions(settings.LoadAddress, settings.MemoryBytes, settings.CommandLine, settings.Modules, settings.Format);
            try
            {
                return ImageLoader.Load(settings.ImagePath, options);
            }
            catch (ImageFormatException e)
            {
                throw new UserInputException(e.Message);
            }
        }
        var guest = guests.Create(settings.Guest ?? GuestCatalog.Default, settings.Iterations);
        return settings.Floppy ? guest.ToFloppyBootImage() : guest.ToBootImage();
    }

    /// <summary>The ROM of `--bios`: a non-empty multiple of 64 KiB of at most 16 MiB, as QEMU takes it.</summary>
    public static byte[] ReadBios(string path)
    {
        const string what = "the BIOS ROM";
        byte[] rom;
        try
        {
            rom = ImageFile.ReadAtMost(path, what, FirmwareRom.MaximumSize);
        }
        catch (ImageFormatException e)
        {
            throw new UserInputException(e.Message);
        }
        if (FirmwareRom.SizeProblem(rom.Length) is { } problem) throw new UserInputException($"{path}: cannot use {what}: {problem}");
        return rom;
    }
}
