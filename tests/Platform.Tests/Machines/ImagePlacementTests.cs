using Iced.Intel;
using Sim.Images;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Platform.Tests.Machines;

/// <summary>Where a boot image's bytes and the platform's own GDT and page tables go, and what does not fit.</summary>
[TestClass]
public sealed class ImagePlacementTests
{
    private const ulong Ram = 64UL << 20;

    private static Machine Create() => new(new MachineConfig { MemoryBytes = Ram, MaxInstructions = 1_000_000 });

    private static BootImage Image(EntryState entry, params MemoryChunk[] chunks) =>
        new() { Chunks = chunks, Entry = entry, Description = "test guest" };

    /// <summary>32-bit code that writes 2Ah to the exit port: it runs only if the GDT the platform built is sound.</summary>
    private static byte[] ExitCode(ulong at)
    {
        var a = new Assembler(32);
        a.mov(al, 0x2A);
        a.@out(0xF4, al);
        a.hlt();
        return GuestAssembly.Assemble(a, at);
    }

    [TestMethod]
    public void AChunkInTheTopOfRamMovesThePlatformAreaBelowIt()
    {
        const ulong codeAt = 0x100000;
        var top = new MemoryChunk(Ram - 0x18000, new byte[0x18000]);
        using var machine = Create();
        machine.Load(Image(new LongModeEntry(codeAt, 0, 0), new MemoryChunk(codeAt, ExitCode(codeAt)), top));

        // The chunk starts at Ram - 0x18000: the highest aligned window that ends at or below it starts at Ram - 0x30000.
        Assert.AreEqual(Ram - 0x30000, machine.PlatformAreaBase, "the highest free 64 KiB-aligned window below the chunk");
        Assert.AreEqual(machine.PlatformAreaBase, machine.PageTableAddress);
        var result = machine.Run();
        Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
        Assert.AreEqual((0x2A << 1) | 1, result.ExitCode);
    }

    [TestMethod]
    public void WithoutAChunkAtTheTopThePlatformAreaIsTheLast64KiB()
    {
        const ulong codeAt = 0x100000;
        using var machine = Create();
        machine.Load(Image(new ProtectedModeEntry((uint)codeAt, 0, 0), new MemoryChunk(codeAt, ExitCode(codeAt))));

        Assert.AreEqual(Ram - Machine.PlatformAreaSize, machine.PlatformAreaBase);
        Assert.AreEqual(machine.PlatformAreaBase + 0x6000, machine.GdtAddress);
    }

    [TestMethod]
    public void AnImageThatFillsRamAboveOneMiBLeavesNoRoomAndSaysSo()
    {
        using var machine = Create();
        var all = new MemoryChunk(0x100000, [0xF4], Ram - 0x100000 - 1);

        var e = Assert.ThrowsExactly<ImagePlacementException>(() => machine.Load(Image(new ProtectedModeEntry(0x100000, 0, 0), all)));
        StringAssert.Contains(e.Message, "no free 64 KiB");
    }

    [TestMethod]
    public void AChunkBeyondRamIsRefusedBeforeAnythingIsWritten()
    {
        using var machine = Create();
        var beyond = new MemoryChunk(Ram - 0x10, new byte[0x20]);

        var e = Assert.ThrowsExactly<ImagePlacementException>(() => machine.Load(Image(new ProtectedModeEntry(0x100000, 0, 0), beyond)));
        StringAssert.Contains(e.Message, "beyond the end of RAM");
    }

    [TestMethod]
    public void ZeroFillClearsWhatWasThere()
    {
        using var machine = Create();
        machine.Memory.WriteBytes(0x200000, Enumerable.Repeat((byte)0xCC, 0x3001).ToArray());

        machine.Load(Image(new ProtectedModeEntry(0x200000, 0, 0), new MemoryChunk(0x200000, [0x90, 0xF4], 0x2FFE)));

        var back = new byte[0x3001];
        machine.Memory.ReadBytes(0x200000, back);
        Assert.AreEqual(0x90, back[0]);
        Assert.AreEqual(0xF4, back[1]);
        Assert.IsTrue(back[2..0x3000].All(b => b == 0), "the zero fill, across whole and partial pages");
        Assert.AreEqual(0xCC, back[0x3000], "the byte past the chunk is left alone");
    }
}
