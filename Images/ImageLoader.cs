using Sim.Images.Formats;

namespace Sim.Images;

/// <summary>Detects an image's format and loads it into a <see cref="BootImage"/>.</summary>
public static class ImageLoader
{
    public static BootImage Load(string path, ImageLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Load(ReadFile(path, "image"), path, options);
    }

    public static BootImage Load(byte[] bytes, string name, ImageLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(options);
        if (bytes.Length == 0)
        {
            throw new ImageFormatException(name, "file is empty");
        }

        var format = options.Format == ImageFormat.Auto ? Detect(bytes, name, options) : options.Format;
        return format switch
        {
            ImageFormat.Raw => RawLoader.Load(bytes, name, options),
            ImageFormat.BootSector => BootSectorLoader.Load(bytes, name, options),
            ImageFormat.Multiboot => MultibootLoader.Load(bytes, name, options),
            ImageFormat.Elf64 => Elf64Loader.Load(bytes, name, options),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Format, "unknown image format"),
        };
    }

    /// <summary>The format that <see cref="ImageFormat.Auto"/> picks for these bytes.</summary>
    public static ImageFormat Detect(byte[] bytes, string name, ImageLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(options);
        var header = MultibootHeader.Find(bytes, out var badChecksumOffset);
        if (ElfProgram.HasMagic(bytes))
        {
            if (header is not null)
            {
                return ImageFormat.Multiboot;
            }

            if (badChecksumOffset >= 0)
            {
                throw new ImageFormatException(name, $"Multiboot header at offset 0x{badChecksumOffset:X} has a bad checksum (magic + flags + checksum must be 0)");
            }

            return ElfProgram.Class(bytes) switch
            {
                2 => ImageFormat.Elf64,
                1 => throw new ImageFormatException(name, "ELF32 file without a Multiboot header: only Multiboot kernels may be 32-bit ELF"),
                var c => throw new ImageFormatException(name, $"ELF file with unknown class {c}"),
            };
        }

        if (header is { HasAddressFields: true })
        {
            return ImageFormat.Multiboot;
        }

        if (bytes.Length % BootSectorLoader.SectorSize == 0 && BootSectorLoader.HasSignature(bytes))
        {
            return ImageFormat.BootSector;
        }

        if (options.LoadAddress is not null)
        {
            return ImageFormat.Raw;
        }

        throw new ImageFormatException(name, badChecksumOffset >= 0
            ? $"Multiboot header at offset 0x{badChecksumOffset:X} has a bad checksum, and no other format matches (pass a load address to load it as a raw image)"
            : "unrecognized image format (not ELF, Multiboot or a boot sector); pass a load address to load it as a raw image");
    }

    internal static byte[] ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            throw new ImageFormatException(path, $"cannot read {what}: {e.Message}", e);
        }
    }
}
