using Sim.Images.Formats;

namespace Sim.Images;

/// <summary>Detects an image's format and loads it into a <see cref="BootImage"/>.</summary>
public static class ImageLoader
{
    public static BootImage Load(string path, ImageLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        return Load(ImageFile.Read(path, "image", options.MemorySize), path, options);
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
        CheckApplicable(format, name, options);
        return format switch
        {
            ImageFormat.Raw => RawLoader.Load(bytes, name, options),
            ImageFormat.BootSector => BootSectorLoader.Load(bytes, name, options),
            ImageFormat.Multiboot => MultibootLoader.Load(bytes, name, options),
            _ => Elf64Loader.Load(bytes, name, options),
        };
    }

    /// <summary>Options that only one format uses are refused for the others rather than ignored.</summary>
    private static void CheckApplicable(ImageFormat format, string name, ImageLoadOptions options)
    {
        var what = format switch
        {
            ImageFormat.Raw => "a raw image",
            ImageFormat.BootSector => "a boot-sector image",
            ImageFormat.Multiboot => "a Multiboot kernel",
            ImageFormat.Elf64 => "an ELF64 image",
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Format, "unknown image format"),
        };
        if (options.LoadAddress is not null && format != ImageFormat.Raw)
        {
            throw new ImageFormatException(name, $"is {what}, which loads where its format says: a load address applies to raw images only (choose the raw format to load it as one)");
        }

        if (format != ImageFormat.Multiboot && options.CommandLine.Length > 0)
        {
            throw new ImageFormatException(name, $"is {what}: a command line applies to Multiboot kernels only");
        }

        if (format != ImageFormat.Multiboot && options.Modules is { Count: > 0 })
        {
            throw new ImageFormatException(name, $"is {what}: modules apply to Multiboot kernels only");
        }
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
}
