namespace Sim.Images.Tests;

/// <summary>Expectations from the Multiboot Specification 0.6.96, sections 3.1 (header), 3.2 (machine state) and 3.3 (boot information).</summary>
[TestClass]
public sealed class MultibootLoaderTests
{
    private const uint BootloaderMagic = 0x2BADB002;
    private const ulong MemorySize = 32UL << 20;

    private string? directory;

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void CreateDirectory() => directory = Directory.CreateTempSubdirectory("sim-images-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(directory!, recursive: true);

    private static byte[] Elf32Kernel(out byte[] text, out byte[] data)
    {
        // The header lies in the first segment, within the first 8192 bytes of the file.
        text = TestElf.Concat(TestElf.MultibootHeader(0x00000003), TestElf.Pattern(0x1F4, 5));
        data = TestElf.Pattern(0x40, 6);
        return TestElf.Build32(0x100020,
            TestSegment.Load(0x100000, text, memorySize: 0x1000),
            TestSegment.Load(0x102000, data, memorySize: 0x1800));
    }

    [TestMethod]
    public void Elf32KernelIsDetectedAndItsSegmentsLoadedAtPhysicalAddresses()
    {
        var bytes = Elf32Kernel(out var text, out var data);

        Assert.AreEqual(ImageFormat.Multiboot, ImageLoader.Detect(bytes, "k", new ImageLoadOptions()));
        var image = ImageLoader.Load(bytes, "kernel.elf", new ImageLoadOptions(MemorySize: MemorySize));

        var kernel = image.Chunks.Where(c => c.Address >= 0x100000 && c.Address < 0x103000).ToList();
        Assert.AreEqual(2, kernel.Count);
        Assert.AreEqual(0x1000UL, kernel[0].Length);
        CollectionAssert.AreEqual(text, kernel[0].Data);
        Assert.AreEqual(0x1000UL - (ulong)text.Length, kernel[0].ZeroFill, "bss zeroed");
        Assert.AreEqual(0x102000UL, kernel[1].Address);
        CollectionAssert.AreEqual(data, kernel[1].Data);
        Assert.AreEqual(0x1800UL, kernel[1].Length);
    }

    [TestMethod]
    public void MachineStateCarriesMagicAndInformationAddress()
    {
        var image = ImageLoader.Load(Elf32Kernel(out _, out _), "kernel.elf", new ImageLoadOptions(MemorySize: MemorySize));

        var entry = (ProtectedModeEntry)image.Entry;
        Assert.AreEqual(0x100020u, entry.Eip);
        Assert.AreEqual(BootloaderMagic, entry.Eax);
        Assert.IsTrue(entry.Ebx < 0x100000, "the information structure lies below 1 MiB");
        var info = image.Chunks.Single(c => c.Address == entry.Ebx);
        foreach (var other in image.Chunks.Where(c => c != info))
        {
            Assert.IsTrue(info.End <= other.Address || other.End <= info.Address, $"information overlaps chunk at 0x{other.Address:X}");
        }
    }

    [TestMethod]
    public void InformationStructureHasMemoryCommandLineAndMemoryMap()
    {
        var image = ImageLoader.Load(Elf32Kernel(out _, out _), "kernel.elf",
            new ImageLoadOptions(MemorySize: MemorySize, CommandLine: "console=com1 verbose"));
        var memory = new GuestMemory(image);
        var mbi = ((ProtectedModeEntry)image.Entry).Ebx;

        var flags = memory.U32(mbi);
        Assert.AreEqual(1u, flags & 1, "flags[0]: mem_lower/mem_upper valid");
        Assert.AreEqual(0u, flags & 2, "flags[1]: no boot_device");
        Assert.AreEqual(4u, flags & 4, "flags[2]: cmdline valid");
        Assert.AreEqual(8u, flags & 8, "flags[3]: mods valid");
        Assert.AreEqual(0x40u, flags & 0x40, "flags[6]: mmap valid");
        Assert.AreEqual(0u, flags & 0x30, "flags[4], flags[5]: no symbol tables");

        Assert.AreEqual(639u, memory.U32(mbi + 4), "mem_lower: KiB of lower memory from 0 (0x9FC00)");
        Assert.AreEqual((uint)((MemorySize - 0x100000) / 1024), memory.U32(mbi + 8), "mem_upper: KiB from 1 MiB");
        Assert.AreEqual("kernel.elf console=com1 verbose", memory.CString(memory.U32(mbi + 16)));
        Assert.AreEqual(0u, memory.U32(mbi + 20), "mods_count");
        if ((flags & (1u << 9)) != 0)
        {
            Assert.AreEqual("sim", memory.CString(memory.U32(mbi + 64)), "boot_loader_name");
        }

        var mmapLength = memory.U32(mbi + 44);
        var mmapAddr = memory.U32(mbi + 48);
        var entries = new List<(ulong Base, ulong Length, uint Type)>();
        for (ulong at = mmapAddr; at < mmapAddr + mmapLength;)
        {
            var size = memory.U32(at);
            entries.Add((memory.U64(at + 4), memory.U64(at + 12), memory.U32(at + 20)));
            at += size + 4;
        }

        CollectionAssert.AreEqual(
            new List<(ulong, ulong, uint)>
            {
                (0, 0x9FC00, 1),
                (0x9FC00, 0x400, 2),
                (0xE0000, 0x20000, 2),
                (0x100000, MemorySize - 0x100000, 1),
            },
            entries);
    }

    [TestMethod]
    public void ModulesAreLoadedPageAlignedAfterTheKernelWithTheirStrings()
    {
        var first = Path.Combine(directory!, "first.bin");
        var second = Path.Combine(directory!, "second.bin");
        var firstData = TestElf.Pattern(5000, 11);
        var secondData = TestElf.Pattern(123, 12);
        File.WriteAllBytes(first, firstData);
        File.WriteAllBytes(second, secondData);

        var image = ImageLoader.Load(Elf32Kernel(out _, out _), "kernel.elf",
            new ImageLoadOptions(MemorySize: MemorySize, Modules: [$"{first} arg1 arg2", second]));
        var memory = new GuestMemory(image);
        var mbi = ((ProtectedModeEntry)image.Entry).Ebx;

        Assert.AreEqual(2u, memory.U32(mbi + 20), "mods_count");
        var modsAddr = memory.U32(mbi + 24);
        var kernelEnd = 0x102000u + 0x1800;
        uint previousEnd = kernelEnd;
        var expected = new[] { (firstData, $"{first} arg1 arg2"), (secondData, second) };
        for (var i = 0; i < expected.Length; i++)
        {
            var module = modsAddr + (uint)(16 * i);
            var start = memory.U32(module);
            var end = memory.U32(module + 4);
            Assert.AreEqual(0u, start % 0x1000, "modules are page aligned (header flag 0)");
            Assert.IsTrue(start >= previousEnd, "modules follow the kernel and each other");
            Assert.AreEqual((uint)expected[i].Item1.Length, end - start, "mod_end - mod_start is the module size");
            CollectionAssert.AreEqual(expected[i].Item1, memory.Read(start, expected[i].Item1.Length));
            Assert.AreEqual(expected[i].Item2, memory.CString(memory.U32(module + 8)));
            previousEnd = end;
        }
    }

    [TestMethod]
    public void AoutKludgeUsesTheHeaderAddressFields()
    {
        // header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr.
        const int headerOffset = 0x20;
        var header = TestElf.MultibootHeader(0x00010003, 0, 0x100020, 0x100000, 0x100000 + 0x300, 0x104000, 0x100040);
        var bytes = TestElf.Concat(TestElf.Pattern(headerOffset, 1), header, TestElf.Pattern(0x400 - headerOffset - header.Length, 2));

        Assert.AreEqual(ImageFormat.Multiboot, ImageLoader.Detect(bytes, "k", new ImageLoadOptions()));
        var image = ImageLoader.Load(bytes, "kernel.aout", new ImageLoadOptions(MemorySize: MemorySize));

        var entry = (ProtectedModeEntry)image.Entry;
        Assert.AreEqual(0x100040u, entry.Eip);
        Assert.AreEqual(BootloaderMagic, entry.Eax);
        var kernel = image.Chunks.Single(c => c.Address == 0x100000);
        Assert.AreEqual(0x4000UL, kernel.Length, "loaded up to bss_end_addr");
        CollectionAssert.AreEqual(bytes[..0x300], kernel.Data, "load_end_addr - load_addr bytes from the file");
        Assert.AreEqual(0x4000UL - 0x300, kernel.ZeroFill, "bss zeroed");
    }

    [TestMethod]
    public void AoutKludgeBssLargerThanTwoGiBIsHeldAsZeroFill()
    {
        const int headerOffset = 0x20;
        var header = TestElf.MultibootHeader(0x00010003, 0, 0x100020, 0x100000, 0x100000 + 0x300, 0xC010_0000, 0x100040);
        var bytes = TestElf.Concat(TestElf.Pattern(headerOffset, 1), header, TestElf.Pattern(0x400 - headerOffset - header.Length, 2));

        var image = ImageLoader.Load(bytes, "big.aout", new ImageLoadOptions(MemorySize: 4UL << 30));

        var kernel = image.Chunks.Single(c => c.Address == 0x100000);
        Assert.AreEqual(0x300, kernel.Data.Length);
        Assert.AreEqual(0xC010_0000UL, kernel.End, "up to bss_end_addr");
    }

    [TestMethod]
    public void AoutKludgeWithZeroLoadEndLoadsTheRestOfTheFile()
    {
        // The header sits 0x10 bytes into the text; the text starts 0x8 bytes into the file.
        var header = TestElf.MultibootHeader(0x00010000, 0, 0x200010, 0x200000, 0, 0, 0x200000);
        var bytes = TestElf.Concat(TestElf.Pattern(0x18, 1), header, TestElf.Pattern(0x100, 2));

        var image = ImageLoader.Load(bytes, "k.bin", new ImageLoadOptions());

        var kernel = image.Chunks.Single(c => c.Address == 0x200000);
        CollectionAssert.AreEqual(bytes[0x8..], kernel.Data);
    }

    [TestMethod]
    public void ElfWithAddressFieldsFlagIsLoadedByTheAddressFields()
    {
        // GRUB 2 and QEMU prefer the address fields over the ELF headers when flag bit 16 is set.
        var header = TestElf.MultibootHeader(0x00010002, 0, 0x300000, 0x300000, 0, 0x302000, 0x300000);
        var text = TestElf.Concat(header, TestElf.Pattern(0x100, 3));
        var bytes = TestElf.Build32(0x100000, TestSegment.Load(0x100000, text));

        var image = ImageLoader.Load(bytes, "both.elf", new ImageLoadOptions());

        Assert.AreEqual(0x300000u, ((ProtectedModeEntry)image.Entry).Eip);
        var kernel = image.Chunks.Single(c => c.Address == 0x300000);
        Assert.AreEqual(0x2000UL, kernel.Length);
        var headerOffset = bytes.AsSpan().IndexOf(header);
        CollectionAssert.AreEqual(bytes[headerOffset..], kernel.Data);
    }

    [TestMethod]
    public void BuiltInGuestAsMultibootKernelLoadsItsPayloadAtThePayloadAddress()
    {
        var guest = new Guests.DemoGuest();

        var image = ImageLoader.Load(guest.ToMultibootKernel(), "demo.elf", new ImageLoadOptions());

        var entry = (ProtectedModeEntry)image.Entry;
        Assert.AreEqual(Guests.GuestLayout.PayloadAddress, entry.Eip);
        Assert.AreEqual(BootloaderMagic, entry.Eax);
        CollectionAssert.AreEqual(guest.Payload(), image.Chunks.Single(c => c.Address == Guests.GuestLayout.PayloadAddress).Data);
    }

    [TestMethod]
    public void HigherHalfElfEntryIsTranslatedToPhysical()
    {
        var text = TestElf.Concat(TestElf.MultibootHeader(0x2), TestElf.Pattern(0x100, 1));
        var bytes = TestElf.Build32(0xC0100010, new TestSegment(0xC0100000, 0x100000, text, (ulong)text.Length));

        var image = ImageLoader.Load(bytes, "hh.elf", new ImageLoadOptions());

        Assert.AreEqual(0x100010u, ((ProtectedModeEntry)image.Entry).Eip);
    }

    [TestMethod]
    public void Elf64MultibootKernelLoadsLikeGrub2()
    {
        var text = TestElf.Concat(TestElf.MultibootHeader(0x3), TestElf.Pattern(0x100, 1));
        var bytes = TestElf.Build64(0x100000, TestSegment.Load(0x100000, text));

        var image = ImageLoader.Load(bytes, "k64.elf", new ImageLoadOptions());

        Assert.AreEqual(ImageFormat.Multiboot, ImageLoader.Detect(bytes, "k64.elf", new ImageLoadOptions()));
        Assert.AreEqual(0x100000u, ((ProtectedModeEntry)image.Entry).Eip);
    }

    [TestMethod]
    public void InformationStructureMovesAwayFromAKernelInItsPreferredPlace()
    {
        var text = TestElf.Concat(TestElf.MultibootHeader(0x3), TestElf.Pattern(0x100, 1));
        var bytes = TestElf.Build32(0x8000, TestSegment.Load(0x8000, text, memorySize: 0x4000));

        var image = ImageLoader.Load(bytes, "low.elf", new ImageLoadOptions());

        var mbi = ((ProtectedModeEntry)image.Entry).Ebx;
        Assert.IsTrue(mbi >= 0xC000 || mbi + 0x100 <= 0x8000, $"information at 0x{mbi:X} overlaps the kernel");
        Assert.AreEqual(1u, new GuestMemory(image).U32(mbi) & 1);
    }
}
