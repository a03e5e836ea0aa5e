using Iced.Intel;
using Sim.Images.Guests;

namespace Sim.Images.Tests;

[TestClass]
public sealed class GuestTests
{
    private static IEnumerable<object[]> Guests() =>
    [
        [new DemoGuest()],
        [new BenchmarkGuest(GuestMode.Protected32, 3)],
        [new BenchmarkGuest(GuestMode.Long64, 3)],
        [new VmxHypervisorGuest()],
        [new SvmHypervisorGuest()],
    ];

    /// <summary>
    /// Decodes from <paramref name="ip"/> up to and including the first instruction for which
    /// <paramref name="last"/> holds, stepping over the inline strings that the guests embed
    /// after a CALL (call over the string, pop its address).
    /// </summary>
    private static List<Instruction> DecodeUntil(byte[] code, int bitness, ulong ip, Func<Instruction, bool> last)
    {
        var instructions = new List<Instruction>();
        var offset = 0;
        while (offset < code.Length)
        {
            var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(code, offset, code.Length - offset), ip + (ulong)offset);
            var instruction = decoder.Decode();
            Assert.AreNotEqual(Code.INVALID, instruction.Code, $"invalid {bitness}-bit instruction at 0x{instruction.IP:X}");
            instructions.Add(instruction);
            if (last(instruction))
            {
                return instructions;
            }

            offset += instruction.Length;
            if (instruction.Mnemonic == Mnemonic.Call && instruction.Op0Kind is OpKind.NearBranch32 or OpKind.NearBranch64
                && IsInlineString(code, offset, (int)(instruction.NearBranchTarget - ip)))
            {
                offset = (int)(instruction.NearBranchTarget - ip);
            }
        }

        Assert.Fail("the expected last instruction was not found");
        return instructions;
    }

    private static bool IsInlineString(byte[] code, int start, int end) =>
        end > start && end <= code.Length && code[end - 1] == 0 && code[start..(end - 1)].All(b => b is (>= 0x20 and < 0x7F) or (byte)'\n');

    [TestMethod]
    [DynamicData(nameof(Guests))]
    public void FloppyIsA144MegabyteBootableImageHoldingThePayload(BuiltInGuest guest)
    {
        var floppy = guest.ToFloppy();
        var payload = guest.Payload();

        Assert.AreEqual(1474560, floppy.Length);
        Assert.AreEqual(0x55, floppy[510]);
        Assert.AreEqual(0xAA, floppy[511]);
        CollectionAssert.AreEqual(payload, floppy[512..(512 + payload.Length)]);
        Assert.IsTrue(floppy[(512 + payload.Length)..].All(b => b == 0));
    }

    [TestMethod]
    [DynamicData(nameof(Guests))]
    public void FloppyLoadsAsABootSectorImageFromDriveZero(BuiltInGuest guest)
    {
        var image = guest.ToFloppyBootImage();

        Assert.AreEqual(new RealModeEntry(0, 0x7C00, 0), image.Entry);
        CollectionAssert.AreEqual(guest.ToFloppy(), image.Disk);
        Assert.AreEqual(ImageFormat.BootSector, ImageLoader.Detect(guest.ToFloppy(), "x", new ImageLoadOptions()));
    }

    [TestMethod]
    public void BootSectorIsValid16BitCodeThatLoadsThePayloadAndEntersProtectedMode()
    {
        var sector = FloppyBootSector.Build(7);

        var code = DecodeUntil(sector[..510], 16, 0x7C00, i => i.Code == Code.Jmp_ptr1632);

        var jump = code[^1];
        Assert.AreEqual(GuestLayout.Code32Selector, jump.FarBranchSelector);
        Assert.AreEqual(GuestLayout.PayloadAddress, jump.FarBranch32);
        Assert.IsTrue(code.Any(i => i.Code == Code.Int_imm8 && i.Immediate8 == 0x13), "reads the disk with INT 13h");
        Assert.IsTrue(code.Any(i => i.Mnemonic == Mnemonic.Lgdt), "loads a GDT");
        Assert.IsTrue(code.Any(i => i.Mnemonic == Mnemonic.Mov && i.Op0Register == Register.CR0), "sets CR0.PE");
        Assert.IsTrue(code.Any(i => i.Mnemonic == Mnemonic.Cmp && i.Op1Kind == OpKind.Immediate16 && i.Immediate16 == 7), "reads exactly the payload sectors");
        Assert.IsTrue(code.Any(i => i.Mnemonic == Mnemonic.Out && i.Op0Kind == OpKind.Immediate8 && i.Immediate8 == 0x92), "enables A20 through port 0x92");
    }

    [TestMethod]
    public void LongModePayloadEnablesPaeLmeAndPagingBeforeTheFarJumpTo64BitCode()
    {
        var guest = new BenchmarkGuest(GuestMode.Long64, 1);
        var payload = guest.Payload();

        var prologue = DecodeUntil(payload, 32, GuestLayout.PayloadAddress, i => i.Code == Code.Jmp_ptr1632);
        Assert.AreEqual(GuestLayout.PayloadAddress + GuestLayout.FlatCodeOffset, prologue[^1].FarBranch32);
        var switchCode = DecodeUntil(payload[(int)GuestLayout.FlatCodeOffset..], 32, GuestLayout.PayloadAddress + GuestLayout.FlatCodeOffset,
            i => i.Code == Code.Jmp_ptr1632);
        Assert.AreEqual(GuestLayout.Code64Selector, switchCode[^1].FarBranchSelector);
        Assert.AreEqual(GuestLayout.PayloadAddress + GuestLayout.LongModeCodeOffset, switchCode[^1].FarBranch32);
        var order = new[]
        {
            switchCode.FindIndex(i => i.Mnemonic == Mnemonic.Mov && i.Op0Register == Register.CR4),
            switchCode.FindIndex(i => i.Mnemonic == Mnemonic.Mov && i.Op0Register == Register.CR3),
            switchCode.FindIndex(i => i.Mnemonic == Mnemonic.Wrmsr),
            switchCode.FindIndex(i => i.Mnemonic == Mnemonic.Mov && i.Op0Register == Register.CR0),
        };
        Assert.IsTrue(order.All(i => i >= 0), "CR4, CR3, WRMSR and CR0 writes are all present");
        CollectionAssert.AreEqual(order.Order().ToArray(), order, "PAE and LME come before CR0.PG (SDM 10.8.5)");

        var program = DecodeUntil(payload[(int)GuestLayout.LongModeCodeOffset..], 64, GuestLayout.PayloadAddress + GuestLayout.LongModeCodeOffset,
            i => i.Mnemonic == Mnemonic.Hlt);
        Assert.AreEqual(Register.ESP, program[0].Op0Register, "the 64-bit program sets its own stack first");
        Assert.IsTrue(program.Any(i => i.Mnemonic == Mnemonic.Out && i.Op0Kind == OpKind.Immediate8 && i.Immediate8 == 0xF4), "exits through port 0xF4");
    }

    [TestMethod]
    public void DemoProgramDecodesUpToItsHalt()
    {
        var payload = new DemoGuest().Payload();

        var program = DecodeUntil(payload[(int)GuestLayout.FlatCodeOffset..], 32, GuestLayout.PayloadAddress + GuestLayout.FlatCodeOffset,
            i => i.Mnemonic == Mnemonic.Hlt);

        Assert.AreEqual(Register.DS, program[1].Op0Register, "the program reloads the data segments first");
        Assert.IsTrue(program.Any(i => i.Mnemonic == Mnemonic.Div), "trial division for the primes");
    }

    [TestMethod]
    [DynamicData(nameof(Guests))]
    public void DirectBootImagePlacesThePayloadAndEntersInTheGuestMode(BuiltInGuest guest)
    {
        var image = guest.ToBootImage();

        Assert.AreEqual(1, image.Chunks.Count);
        Assert.AreEqual((ulong)GuestLayout.PayloadAddress, image.Chunks[0].Address);
        CollectionAssert.AreEqual(guest.Payload(), image.Chunks[0].Data);
        Assert.IsNull(image.Disk);
        var expected = guest.Mode == GuestMode.Protected32
            ? (EntryState)new ProtectedModeEntry(GuestLayout.PayloadAddress, 0, 0)
            : new LongModeEntry(GuestLayout.PayloadAddress + GuestLayout.LongModeCodeOffset, 0, 0);
        Assert.AreEqual(expected, image.Entry);
    }

    [TestMethod]
    public void DemoOutputHasTheKnownPrimesAndCrc()
    {
        var output = new DemoGuest().ExpectedOutput();

        StringAssert.Contains(output, "First 20 primes: 2 3 5 7 11 13 17 19 23 29 31 37 41 43 47 53 59 61 67 71\n");
        StringAssert.Contains(output, "= 414FA339\n");
        Assert.AreEqual(0xCBF43926u, DemoGuest.Crc32(System.Text.Encoding.ASCII.GetBytes("123456789")), "the CRC-32 check value");
    }

    [TestMethod]
    public void BenchmarkChecksumIsDeterministicAndDependsOnEveryIteration()
    {
        Assert.AreEqual(2166136261u, BenchmarkGuest.ComputeChecksum(0), "no iteration leaves the FNV offset basis");
        var checksums = Enumerable.Range(0, 4).Select(i => BenchmarkGuest.ComputeChecksum((uint)i)).ToList();
        Assert.AreEqual(checksums.Count, checksums.Distinct().Count(), "each iteration changes the checksum");
        Assert.AreEqual(checksums[3], BenchmarkGuest.ComputeChecksum(3));

        // Printed by the guest itself on QEMU 7.2 and Bochs 2.7 (see ReferenceEmulatorTests).
        Assert.AreEqual(0xD9FFD321u, checksums[2]);
        Assert.AreEqual(0x02C729B4u, BenchmarkGuest.ComputeChecksum(BenchmarkGuest.DefaultIterations));
        Assert.AreEqual(6765u, BenchmarkGuest.Fibonacci(20));
        Assert.AreEqual(0x100000u - (7919u & 0xFFFF), BenchmarkGuest.SieveLength(1));
    }

    [TestMethod]
    public void BenchmarkOutputNamesModeIterationsAndChecksum()
    {
        var output = new BenchmarkGuest(GuestMode.Long64, 2).ExpectedOutput();

        Assert.AreEqual("sim benchmark guest (64-bit long mode), 2 iterations\nchecksum: D9FFD321\n", output);
        Assert.AreEqual(BenchmarkGuest.DefaultIterations, new BenchmarkGuest().Iterations);
        Assert.AreEqual(GuestMode.Protected32, new BenchmarkGuest().Mode);
    }
}
