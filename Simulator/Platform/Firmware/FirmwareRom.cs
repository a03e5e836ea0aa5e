using Sim.Cpu.Bus;
using Sim.Cpu.Memory;

namespace Sim.Platform.Firmware;

/// <summary>
/// A system firmware ROM in place of sim's own (QEMU's <c>-bios</c>): the whole image read-only at the
/// top of 4 GiB, ending at FFFF_FFFFh where the reset vector lies, and its last 128 KiB (or all of a
/// smaller image) aliased read-only below 1 MiB, ending at F_FFFFh, where real-mode code runs. Writes
/// are ignored, as on QEMU's PC with the PAM registers at their reset value.
/// </summary>
public sealed class FirmwareRom : IReadOnlyMemoryDevice
{
    /// <summary>The image's size is a multiple of this, as QEMU requires.</summary>
    public const int Granule = 64 * 1024;

    /// <summary>The largest image: the top 16 MiB below 4 GiB, above the I/O APIC, HPET and local APIC ranges.</summary>
    public const int MaximumSize = 16 * 1024 * 1024;

    /// <summary>The most of the image that appears below 1 MiB.</summary>
    public const int IsaAliasMaximumSize = 128 * 1024;

    private const ulong HighEnd = 1UL << 32;
    private const ulong IsaAliasEnd = 0x10_0000;

    private readonly byte[] _image;

    public FirmwareRom(ReadOnlySpan<byte> image)
    {
        if (SizeProblem(image.Length) is { } problem) throw new ArgumentException(problem, nameof(image));
        _image = image.ToArray();
    }

    /// <summary>Why an image of <paramref name="length"/> bytes cannot be a ROM, or null when it can.</summary>
    public static string? SizeProblem(long length) => length switch
    {
        0 => "it is empty",
        > MaximumSize => $"it is larger than {MaximumSize >> 20} MiB",
        _ when length % Granule != 0 => $"its size ({length} bytes) is not a multiple of {Granule >> 10} KiB",
        _ => null,
    };

    /// <summary>Where the whole image starts: 4 GiB minus its size.</summary>
    public ulong HighBase => HighEnd - (ulong)_image.Length;

    public int IsaAliasSize => Math.Min(_image.Length, IsaAliasMaximumSize);

    /// <summary>Where the alias below 1 MiB starts: E_0000h for an image of 128 KiB or more.</summary>
    public ulong IsaAliasBase => IsaAliasEnd - (ulong)IsaAliasSize;

    /// <summary>Lays the ROM's pages over both ranges; the alias below 1 MiB shadows RAM there.</summary>
    public void Map(PhysicalMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        memory.MapMmio(HighBase, (ulong)_image.Length, this);
        memory.MapMmio(IsaAliasBase, (ulong)IsaAliasSize, this);
    }

    public ulong Read(ulong address, int size)
    {
        var offset = address >= HighBase ? address - HighBase : address - IsaAliasBase + (ulong)(_image.Length - IsaAliasSize);
        ulong value = 0;
        for (var i = 0; i < size; i++) value |= (ulong)_image[offset + (ulong)i] << (8 * i);
        return value;
    }

    public void Write(ulong address, int size, ulong value)
    {
    }
}
