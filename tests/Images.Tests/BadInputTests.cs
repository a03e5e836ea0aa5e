namespace Sim.Images.Tests;

[TestClass]
public sealed class BadInputTests
{
    private static byte[] MultibootElf(uint checksumError = 0, ulong memorySize = 0x1000, uint flags = 0x3)
    {
        var text = TestElf.Concat(TestElf.MultibootHeader(flags, checksumError), TestElf.Pattern(0x200, 1));
        return TestElf.Build32(0x100000, TestSegment.Load(0x100000, text, memorySize: Math.Max(memorySize, (ulong)text.Length)));
    }

    [TestMethod]
    public void MissingFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sim-no-such-file-{Guid.NewGuid():N}.img");

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(path, new ImageLoadOptions()), path, "cannot read image");
    }

    [TestMethod]
    public void EmptyFile()
    {
        var path = Path.GetTempFileName();
        try
        {
            ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(path, new ImageLoadOptions()), path, "empty");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void RawWithoutLoadAddress()
    {
        ExceptionAssert.ThrowsImageFormat(
            () => ImageLoader.Load(TestElf.Pattern(300, 1), "blob.bin", new ImageLoadOptions()),
            "blob.bin", "unrecognized", "load address");
        ExceptionAssert.ThrowsImageFormat(
            () => ImageLoader.Load(TestElf.Pattern(300, 1), "blob.bin", new ImageLoadOptions(Format: ImageFormat.Raw)),
            "blob.bin", "load address");
    }

    [TestMethod]
    public void TruncatedElfSegment()
    {
        var bytes = MultibootElf();

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes[..(bytes.Length - 16)], "cut.elf", new ImageLoadOptions()), "cut.elf", "truncated");
    }

    [TestMethod]
    public void TruncatedElfProgramHeaders()
    {
        var bytes = TestElf.Build64(0x100000, TestSegment.Load(0x100000, new byte[64]));

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes[..80], "cut64.elf", new ImageLoadOptions()), "cut64.elf", "truncated");
        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes[..40], "tiny.elf", new ImageLoadOptions()), "tiny.elf", "truncated ELF header");
    }

    [TestMethod]
    public void BadMultibootChecksum()
    {
        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(MultibootElf(checksumError: 1), "bad.elf", new ImageLoadOptions()), "bad.elf", "checksum");
        ExceptionAssert.ThrowsImageFormat(
            () => ImageLoader.Load(MultibootElf(checksumError: 1), "bad.elf", new ImageLoadOptions(Format: ImageFormat.Multiboot)),
            "bad.elf", "checksum");
    }

    [TestMethod]
    public void MultibootSegmentBeyondMemory()
    {
        ExceptionAssert.ThrowsImageFormat(
            () => ImageLoader.Load(MultibootElf(memorySize: 0x200000), "huge.elf", new ImageLoadOptions(MemorySize: 2UL << 20)),
            "huge.elf", "beyond the end of guest memory");
    }

    [TestMethod]
    public void UnsupportedMultibootRequirement()
    {
        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(MultibootElf(flags: 0x8), "req.elf", new ImageLoadOptions()), "req.elf", "unsupported");
    }

    [TestMethod]
    public void Elf32WithoutMultibootHeader()
    {
        var bytes = TestElf.Build32(0x100000, TestSegment.Load(0x100000, TestElf.Pattern(64, 1)));

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes, "plain32.elf", new ImageLoadOptions()), "plain32.elf", "ELF32", "Multiboot");
    }

    [TestMethod]
    public void AoutKludgeTruncatedFile()
    {
        var header = TestElf.MultibootHeader(0x00010000, 0, 0x100000, 0x100000, 0x101000, 0, 0x100000);
        var bytes = TestElf.Concat(header, new byte[0x100]);

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes, "short.bin", new ImageLoadOptions()), "short.bin", "load_end_addr", "truncated");
    }

    [TestMethod]
    public void AoutKludgeEntryOutsideKernel()
    {
        var header = TestElf.MultibootHeader(0x00010000, 0, 0x100000, 0x100000, 0, 0, 0x200000);
        var bytes = TestElf.Concat(header, new byte[0x100]);

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes, "entry.bin", new ImageLoadOptions()), "entry.bin", "entry_addr");
    }

    [TestMethod]
    public void AoutKludgeHeaderBeforeLoadStart()
    {
        var header = TestElf.MultibootHeader(0x00010000, 0, 0x100000, 0x0F0000, 0, 0, 0x100000);

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(TestElf.Concat(header, new byte[64]), "back.bin", new ImageLoadOptions()), "back.bin", "before the beginning");
    }

    [TestMethod]
    public void MissingModule()
    {
        var module = Path.Combine(Path.GetTempPath(), $"sim-no-such-module-{Guid.NewGuid():N}");

        ExceptionAssert.ThrowsImageFormat(
            () => ImageLoader.Load(MultibootElf(), "kernel.elf", new ImageLoadOptions(Modules: [$"{module} args"])),
            module, "cannot read module");
    }

    [TestMethod]
    public void GarbageElf()
    {
        var bytes = TestElf.Build64(0x100000, TestSegment.Load(0x100000, new byte[64]));
        bytes[5] = 2;

        ExceptionAssert.ThrowsImageFormat(() => ImageLoader.Load(bytes, "be.elf", new ImageLoadOptions()), "be.elf", "little-endian");
    }
}
