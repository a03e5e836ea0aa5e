namespace Sim.Images.Guests;

/// <summary>A 1.44 MB floppy image: the built-in boot sector followed by the payload sectors, the rest zero.</summary>
public static class FloppyImage
{
    public const int Size = 1474560;
    public const int SectorsPerTrack = 18;
    public const int Heads = 2;

    public static byte[] Create(byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var sectors = (payload.Length + 511) / 512;
        var image = new byte[Size];
        FloppyBootSector.Build(sectors).CopyTo(image, 0);
        payload.CopyTo(image, FloppyBootSector.Size);
        return image;
    }
}
