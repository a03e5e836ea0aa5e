namespace Sim.Images.Tests;

[TestClass]
public sealed class Elf64LoaderTests
{
    [TestMethod]
    public void LoadsSegmentsAtPhysicalAddressesAndEntersLongMode()
    {
        var text = TestElf.Pattern(0x300, 1);
        var data = TestElf.Pattern(0x80, 2);
        var bytes = TestElf.Build64(0x200010,
            TestSegment.Load(0x200000, text),
            TestSegment.Load(0x300000, data, memorySize: 0x2000),
            new TestSegment(0, 0, TestElf.Pattern(8, 3), 8, TestElf.PtNote));

        var image = ImageLoader.Load(bytes, "kernel64.elf", new ImageLoadOptions());

        Assert.AreEqual(new LongModeEntry(0x200010, 0, 0), image.Entry);
        Assert.AreEqual(2, image.Chunks.Count, "only PT_LOAD segments are loaded");
        Assert.AreEqual(0x200000UL, image.Chunks[0].Address);
        CollectionAssert.AreEqual(text, image.Chunks[0].Data);
        Assert.AreEqual(0x300000UL, image.Chunks[1].Address);
        Assert.AreEqual(0x2000UL, image.Chunks[1].Length);
        CollectionAssert.AreEqual(data, image.Chunks[1].Data, "p_filesz bytes from the file");
        Assert.AreEqual(0x2000UL - 0x80, image.Chunks[1].ZeroFill, "the bss (p_memsz beyond p_filesz) is zero");
    }

    [TestMethod]
    public void HigherHalfEntryIsTranslatedToItsPhysicalAddress()
    {
        var bytes = TestElf.Build64(0xFFFFFFFF80100020,
            new TestSegment(0xFFFFFFFF80100000, 0x100000, TestElf.Pattern(0x100, 1), 0x100));

        var image = ImageLoader.Load(bytes, "hh.elf", new ImageLoadOptions());

        Assert.AreEqual(new LongModeEntry(0x100020, 0, 0), image.Entry);
        Assert.AreEqual(0x100000UL, image.Chunks[0].Address);
    }

    [TestMethod]
    public void EntryAboveTheIdentityMapIsRejected()
    {
        var bytes = TestElf.Build64(0x1_0000_0000, TestSegment.Load(0x1_0000_0000, new byte[16]));

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes, "far.elf", new ImageLoadOptions(MemorySize: 8UL << 30)), "far.elf", "4 GiB");
    }

    [TestMethod]
    public void EntryOutsideEverySegmentIsRejected()
    {
        var bytes = TestElf.Build64(0x200000, TestSegment.Load(0x100000, new byte[16]));

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes, "stray.elf", new ImageLoadOptions()), "stray.elf", "e_entry 0x200000", "outside every PT_LOAD segment");
    }

    [TestMethod]
    public void BssLargerThanTwoGiBIsHeldAsZeroFillNotAsBytes()
    {
        // The largest .NET array is just under 2 GiB: a bss beyond that must not be allocated.
        var bytes = TestElf.Build64(0x100000, new TestSegment(0x100000, 0x100000, TestElf.Pattern(0x100, 1), 0xC000_0000));

        var image = ImageLoader.Load(bytes, "big.elf", new ImageLoadOptions(MemorySize: 4UL << 30));

        Assert.AreEqual(0x100, image.Chunks[0].Data.Length);
        Assert.AreEqual(0xC000_0000UL - 0x100, image.Chunks[0].ZeroFill);
        Assert.AreEqual(0x100000UL + 0xC000_0000, image.Chunks[0].End);
    }

    [TestMethod]
    public void WrongMachineIsRejected()
    {
        var bytes = TestElf.Build(true, TestElf.EmI386, 0x100000, TestSegment.Load(0x100000, new byte[16]));

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes, "i386.elf", new ImageLoadOptions()), "i386.elf", "e_machine");
    }

    [TestMethod]
    public void SegmentBeyondMemoryIsRejected()
    {
        var bytes = TestElf.Build64(0x100000, TestSegment.Load(0x100000, new byte[16], memorySize: 0x400000));

        ExceptionAssert.ThrowsImageFormat(
            () => ImageLoader.Load(bytes, "big.elf", new ImageLoadOptions(MemorySize: 4UL << 20)),
            "big.elf", "p_paddr 0x100000", "beyond the end of guest memory");
    }

    [TestMethod]
    public void OverlappingSegmentsAreRejected()
    {
        var bytes = TestElf.Build64(0x100000,
            TestSegment.Load(0x100000, new byte[16], memorySize: 0x2000),
            TestSegment.Load(0x101000, new byte[16]));

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes, "ov.elf", new ImageLoadOptions()), "ov.elf", "overlaps");
    }
}
