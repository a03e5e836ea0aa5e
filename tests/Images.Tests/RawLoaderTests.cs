namespace Sim.Images.Tests;

[TestClass]
public sealed class RawLoaderTests
{
    [TestMethod]
    public void BelowOneMegabyteStartsInRealModeAtSegmentAndOffset()
    {
        var bytes = TestElf.Pattern(100, 3);
        var image = ImageLoader.Load(bytes, "flat.bin", new ImageLoadOptions(LoadAddress: 0x12345));

        Assert.AreEqual(1, image.Chunks.Count);
        Assert.AreEqual(0x12345UL, image.Chunks[0].Address);
        CollectionAssert.AreEqual(bytes, image.Chunks[0].Data);
        Assert.AreEqual(new RealModeEntry(0x1234, 0x5, 0x80), image.Entry);
        Assert.IsNull(image.Disk);
        Assert.IsTrue(image.Description.Contains("raw", StringComparison.Ordinal));
    }

    [TestMethod]
    public void AtOneMegabyteAndAboveStartsInProtectedMode()
    {
        var image = ImageLoader.Load(TestElf.Pattern(16, 0), "flat.bin", new ImageLoadOptions(LoadAddress: 0x100000));

        Assert.AreEqual(new ProtectedModeEntry(0x100000, 0, 0), image.Entry);
    }

    [TestMethod]
    public void ForcedRawIgnoresOtherSignatures()
    {
        var sector = new byte[512];
        sector[510] = 0x55;
        sector[511] = 0xAA;

        var image = ImageLoader.Load(sector, "x", new ImageLoadOptions(LoadAddress: 0x8000, Format: ImageFormat.Raw));

        Assert.AreEqual(new RealModeEntry(0x800, 0, 0x80), image.Entry);
    }

    [TestMethod]
    public void ImageBeyondMemoryIsRejected()
    {
        ExceptionAssert.ThrowsImageFormat(
            () => ImageLoader.Load(new byte[0x2000], "big.bin", new ImageLoadOptions(LoadAddress: 0xFFF000, MemorySize: 16UL << 20)),
            "big.bin", "beyond the end of guest memory");
    }
}
