namespace Sim.Images.Tests;

[TestClass]
public sealed class BootSectorLoaderTests
{
    private static byte[] DiskImage(int size)
    {
        var image = TestElf.Pattern(size, 9);
        image[510] = 0x55;
        image[511] = 0xAA;
        return image;
    }

    [TestMethod]
    [DataRow(368640)]
    [DataRow(737280)]
    [DataRow(1228800)]
    [DataRow(1474560)]
    [DataRow(2949120)]
    public void FloppySizedImageBootsFromDriveZero(int size)
    {
        var bytes = DiskImage(size);

        var image = ImageLoader.Load(bytes, "floppy.img", new ImageLoadOptions());

        Assert.AreEqual(new RealModeEntry(0, 0x7C00, 0x00), image.Entry);
        Assert.AreEqual(1, image.Chunks.Count);
        Assert.AreEqual(0x7C00UL, image.Chunks[0].Address);
        CollectionAssert.AreEqual(bytes[..512], image.Chunks[0].Data);
        Assert.AreSame(bytes, image.Disk);
    }

    [TestMethod]
    public void OtherSizesBootFromTheFirstHardDisk()
    {
        var bytes = DiskImage(1 << 20);

        var image = ImageLoader.Load(bytes, "disk.img", new ImageLoadOptions());

        Assert.AreEqual(new RealModeEntry(0, 0x7C00, 0x80), image.Entry);
        Assert.AreEqual(bytes.Length, image.Disk!.Length);
    }

    [TestMethod]
    public void ForcedBootSectorPadsAPartialLastSector()
    {
        var bytes = DiskImage(700);

        var image = ImageLoader.Load(bytes, "odd.img", new ImageLoadOptions(Format: ImageFormat.BootSector));

        Assert.AreEqual(1024, image.Disk!.Length);
        CollectionAssert.AreEqual(bytes, image.Disk[..700]);
        Assert.IsTrue(image.Disk[700..].All(b => b == 0));
    }

    [TestMethod]
    public void SectorWithoutSignatureIsNotDetectedAsBootSector()
    {
        var bytes = new byte[512];

        Assert.AreEqual(ImageFormat.Raw, ImageLoader.Detect(bytes, "x", new ImageLoadOptions(LoadAddress: 0x7C00)));
        ExceptionAssert.ThrowsImageFormat(
            () => ImageLoader.Load(bytes, "nosig.img", new ImageLoadOptions(Format: ImageFormat.BootSector)),
            "nosig.img", "0x55 0xAA");
    }
}
