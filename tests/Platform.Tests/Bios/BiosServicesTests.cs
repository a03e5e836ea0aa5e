using Sim.Cpu.Memory;
using Sim.Platform.Bios;
using Sim.Platform.Devices;
using Sim.Platform.Time;

namespace Sim.Platform.Tests.Bios;

/// <summary>
/// INT 13h and INT 1Ah on the register file, against SeaBIOS's disk.c and clock.c and Ralf Brown's
/// interrupt list: what a BIOS answers to parameters out of range.
/// </summary>
[TestClass]
public sealed class BiosServicesTests
{
    private const ushort Eax = BiosServices.BasePort, Ebx = Eax + 4, Ecx = Eax + 8, Edx = Eax + 12, Esi = Eax + 16, Edi = Eax + 20;
    private const ushort Ds = Eax + 0x1C, Es = Eax + 0x1E;
    private const ulong Packet = 0x600, Buffer = 0x8000;

    private sealed class Harness : IDisposable
    {
        public Harness(byte[]? disk, byte drive = 0x80, ulong ram = 2UL << 20)
        {
            Memory = new PhysicalMemory(ram);
            Clock = new MachineClock();
            Rtc = new RtcMc146818(Clock);
            Services = new BiosServices(Memory, new Uart16550A(Stream.Null), Rtc, new A20Gate());
            if (disk != null) Services.AttachDisk(disk, drive);
        }

        public PhysicalMemory Memory { get; }

        public MachineClock Clock { get; }

        public RtcMc146818 Rtc { get; }

        public BiosServices Services { get; }

        public void Int(byte vector, uint eax, uint ebx = 0, uint ecx = 0, uint edx = 0x80, uint esi = 0, uint edi = 0, ushort ds = 0, ushort es = 0)
        {
            foreach (var (port, value) in new[] { (Eax, eax), (Ebx, ebx), (Ecx, ecx), (Edx, edx), (Esi, esi), (Edi, edi) }) Services.Write(port, 4, value);
            Services.Write(Ds, 2, ds);
            Services.Write(Es, 2, es);
            Services.Write(BiosServices.FlagsPort, 2, 0x0002);
            Services.Write(BiosServices.CallPort, 1, vector);
        }

        public uint Reg(ushort port) => Services.Read(port, 4);

        public byte Ah => (byte)(Reg(Eax) >> 8);

        public byte Al => (byte)Reg(Eax);

        public bool Carry => (Services.Read(BiosServices.FlagsPort, 2) & 1) != 0;

        /// <summary>AH=42h/43h with a disk address packet at 0000:0600 for <paramref name="count"/> sectors from <paramref name="lba"/> to <paramref name="segment"/>:<paramref name="offset"/>.</summary>
        public void Extended(byte function, ulong lba, ushort count, ushort segment = 0, ushort offset = (ushort)Buffer, byte drive = 0x80)
        {
            Memory.Write(Packet, 1, 0x10);
            Memory.Write(Packet + 1, 1, 0);
            Memory.Write(Packet + 2, 2, count);
            Memory.Write(Packet + 4, 2, offset);
            Memory.Write(Packet + 6, 2, segment);
            Memory.Write(Packet + 8, 8, lba);
            Int(0x13, (uint)function << 8, edx: drive, esi: (uint)Packet);
        }

        public ushort PacketCount => (ushort)Memory.Read(Packet + 2, 2);

        public void Dispose() => Memory.Dispose();
    }

    /// <summary>A disk of <paramref name="sectors"/> sectors whose sector n is filled with the byte n + 1.</summary>
    private static byte[] Disk(int sectors, int extraBytes = 0)
    {
        var disk = new byte[sectors * 512 + extraBytes];
        for (var i = 0; i < disk.Length; i++) disk[i] = (byte)(i / 512 + 1);
        return disk;
    }

    [TestMethod]
    public void ExtendedReadAtSector7FFFFFFFFFFFFFIsAnInvalidParameter()
    {
        // The issue: lba * 512 overflowed past the size check. SeaBIOS extended_access: an LBA at or
        // past the drive's sector count is DISK_RET_EPARAM (01h), with CF set.
        using var bios = new Harness(Disk(4));
        bios.Extended(0x42, 0x7F_FFFF_FFFF_FFFF, 1);
        Assert.IsTrue(bios.Carry);
        Assert.AreEqual(DiskStatus.InvalidParameter, bios.Ah);
        foreach (var lba in new ulong[] { 4, ulong.MaxValue, 1UL << 55, (ulong.MaxValue / 512) + 1 })
        {
            bios.Extended(0x42, lba, 1);
            Assert.IsTrue(bios.Carry, $"LBA {lba:x}");
            Assert.AreEqual(DiskStatus.InvalidParameter, bios.Ah, $"LBA {lba:x}");
        }
    }

    [TestMethod]
    public void ExtendedReadThatRunsPastTheLastSectorIsRefusedWhole()
    {
        using var bios = new Harness(Disk(4));
        bios.Extended(0x42, 3, 2);
        Assert.IsTrue(bios.Carry);
        Assert.AreEqual(DiskStatus.BadTrack, bios.Ah);
        Assert.AreEqual(0, bios.PacketCount, "the packet's count says how many sectors were transferred");
        Assert.AreEqual(0UL, bios.Memory.Read(Buffer, 1));
        bios.Extended(0x42, 3, 0xFFFF);
        Assert.AreEqual(DiskStatus.BadTrack, bios.Ah);
    }

    [TestMethod]
    public void ExtendedReadOfZeroSectorsSucceedsAndMovesNothing()
    {
        using var bios = new Harness(Disk(4));
        bios.Extended(0x42, 1, 0);
        Assert.IsFalse(bios.Carry);
        Assert.AreEqual(0, bios.Ah);
        Assert.AreEqual(0UL, bios.Memory.Read(Buffer, 1));
    }

    [TestMethod]
    public void ExtendedReadOfMoreThan7FhSectorsIsServed()
    {
        // SeaBIOS takes the packet's whole 16-bit count (only Phoenix EDD stops at 7Fh).
        using var bios = new Harness(Disk(0x100));
        bios.Extended(0x42, 0, 0x80, segment: 0x1000, offset: 0);
        Assert.IsFalse(bios.Carry);
        Assert.AreEqual(0x80, bios.PacketCount);
        Assert.AreEqual(0x80UL, bios.Memory.Read(0x10000 + 0x7F * 512, 1));
    }

    [TestMethod]
    public void ExtendedReadIntoABufferThatEndsPastRamLosesTheTail()
    {
        // FFFF:0010 is 1 MiB; 0x1000 sectors (2 MiB) run past the end of 2 MiB of RAM, where a bus
        // write to absent memory goes nowhere.
        using var bios = new Harness(Disk(0x1000));
        bios.Extended(0x42, 0, 0x1000, segment: 0xFFFF, offset: 0x0010);
        Assert.IsFalse(bios.Carry);
        Assert.AreEqual(0x1000, bios.PacketCount);
        Assert.AreEqual(0x01UL, bios.Memory.Read(0x100000, 1));
        Assert.AreEqual(0x00UL, bios.Memory.Read(0x1FFFFF, 1), "sector 0x7FF holds 0x800 & 0xFF");
        bios.Extended(0x42, 0, 0xFFFF, segment: 0xFFFF, offset: 0xFFFF);
        Assert.AreEqual(DiskStatus.BadTrack, bios.Ah, "0xFFFF sectors are more than the disk has");
    }

    [TestMethod]
    public void AnImageEndingInsideItsLastSectorReadsZerosAfterItsEnd()
    {
        using var bios = new Harness(Disk(1, extraBytes: 100));
        bios.Extended(0x42, 1, 1);
        Assert.IsFalse(bios.Carry);
        Assert.AreEqual(0x02UL, bios.Memory.Read(Buffer + 99, 1));
        Assert.AreEqual(0x00UL, bios.Memory.Read(Buffer + 100, 1));
    }

    [TestMethod]
    public void WritesToTheReadOnlyImageAreWriteProtected()
    {
        using var bios = new Harness(Disk(4));
        bios.Extended(0x43, 0, 1);
        Assert.IsTrue(bios.Carry);
        Assert.AreEqual(DiskStatus.WriteProtected, bios.Ah);
        Assert.AreEqual(0, bios.PacketCount);
        bios.Int(0x13, 0x0301, ebx: (uint)Buffer, ecx: 0x0001);
        Assert.IsTrue(bios.Carry);
        Assert.AreEqual(DiskStatus.WriteProtected, bios.Ah);
        Assert.AreEqual(0, bios.Al, "AL: sectors transferred");
    }

    [TestMethod]
    public void ChsParametersOutOfRangeAreInvalid()
    {
        // SeaBIOS basic_access: count 0 or above 128, sector 0, and cylinder, head or sector beyond
        // the geometry (16 heads, 63 sectors per track here) are DISK_RET_EPARAM.
        using var bios = new Harness(Disk(4));
        var cases = new (uint Ax, uint Cx, uint Dx, string What)[]
        {
            (0x0200, 0x0001, 0x0080, "count 0"),
            (0x0281, 0x0001, 0x0080, "count 129"),
            (0x02FF, 0x0001, 0x0080, "count 255"),
            (0x0201, 0x0000, 0x0080, "sector 0"),
            (0x0201, 0x0040, 0x0080, "sector 0, cylinder bits set"),
            (0x0201, 0x0001, 0x1080, "head 16"),
            (0x0201, 0x0001, 0xFF80, "head 255"),
            (0x0201, 0x003F | 0x0100, 0x0080, "cylinder 1 of 1"),
            (0x0201, 0xFFFF, 0xFF80, "everything at its maximum"),
        };
        foreach (var (ax, cx, dx, what) in cases)
        {
            bios.Int(0x13, ax, ebx: (uint)Buffer, ecx: cx, edx: dx);
            Assert.IsTrue(bios.Carry, what);
            Assert.AreEqual(DiskStatus.InvalidParameter, bios.Ah, what);
        }
        bios.Int(0x13, 0x0280, ebx: (uint)Buffer, ecx: 0x0001);
        Assert.IsTrue(bios.Carry, "128 sectors are allowed, but the disk has 4");
        Assert.AreEqual(DiskStatus.BadTrack, bios.Ah);
        Assert.AreEqual(0, bios.Al);
    }

    [TestMethod]
    public void ChsReadPastTheImageButInsideTheGeometryIsRefused()
    {
        // 4 sectors, but the geometry's one cylinder has 16 x 63.
        using var bios = new Harness(Disk(4));
        bios.Int(0x13, 0x0201, ebx: (uint)Buffer, ecx: 0x0005);
        Assert.IsTrue(bios.Carry);
        Assert.AreEqual(DiskStatus.BadTrack, bios.Ah);
        bios.Int(0x13, 0x0204, ebx: (uint)Buffer, ecx: 0x0001);
        Assert.IsFalse(bios.Carry);
        Assert.AreEqual(4, bios.Al);
        Assert.AreEqual(0x04UL, bios.Memory.Read(Buffer + 3 * 512, 1));
    }

    [TestMethod]
    public void ChsReadIntoEsBxNear1MiBIsWrittenAbove1MiB()
    {
        using var bios = new Harness(Disk(0x80));
        bios.Int(0x13, 0x0280, ebx: 0xFFFF, ecx: 0x0001, es: 0xFFFF);
        Assert.IsFalse(bios.Carry);
        Assert.AreEqual(0x01UL, bios.Memory.Read(0x10FFEF, 1));
    }

    [TestMethod]
    public void AnyDriveButTheAttachedOneIsInvalid()
    {
        using var bios = new Harness(Disk(4));
        foreach (var drive in new byte[] { 0x00, 0x01, 0x81, 0xE0, 0xFF })
        {
            foreach (var ah in new byte[] { 0x00, 0x02, 0x08, 0x15, 0x41, 0x42, 0x48 })
            {
                bios.Int(0x13, (uint)ah << 8 | 1, ebx: 0x55AA, ecx: 1, edx: drive, esi: (uint)Packet);
                Assert.IsTrue(bios.Carry, $"drive {drive:x2} AH={ah:x2}");
                Assert.AreEqual(DiskStatus.InvalidParameter, bios.Ah, $"drive {drive:x2} AH={ah:x2}");
            }
        }
        bios.Int(0x13, 0x0000, edx: 0x00);
        Assert.AreEqual((ulong)DiskStatus.InvalidParameter, bios.Memory.Read(0x441, 1), "BDA 41h: last floppy status, by DL");
        using var none = new Harness(null);
        none.Extended(0x42, 0, 1);
        Assert.IsTrue(none.Carry);
        Assert.AreEqual(DiskStatus.InvalidParameter, none.Ah);
    }

    [TestMethod]
    public void InstallationCheckReportsEdd30InAh()
    {
        // SeaBIOS disk_1341 and Ralf Brown: AH = 30h for EDD 3.0, BX = AA55h, CF clear.
        using var bios = new Harness(Disk(4));
        bios.Int(0x13, 0x4100, ebx: 0x55AA);
        Assert.IsFalse(bios.Carry);
        Assert.AreEqual(0x30, bios.Ah);
        Assert.AreEqual(0xAA55u, bios.Reg(Ebx) & 0xFFFF);
    }

    [TestMethod]
    public void DriveParametersNeedABufferOfAtLeast1AhBytes()
    {
        using var bios = new Harness(Disk(4));
        bios.Memory.Write(Packet, 2, 0x19);
        bios.Int(0x13, 0x4800, esi: (uint)Packet);
        Assert.IsTrue(bios.Carry);
        Assert.AreEqual(DiskStatus.InvalidParameter, bios.Ah);
        bios.Memory.Write(0x10FFEF, 2, 0x1A);
        bios.Int(0x13, 0x4800, esi: 0xFFFF, ds: 0xFFFF);
        Assert.IsFalse(bios.Carry, "a table at FFFF:FFFF lies above 1 MiB and is written there");
        Assert.AreEqual(4UL, bios.Memory.Read(0x10FFEF + 16, 8));
    }

    [TestMethod]
    public void ClockServicesReadAndWriteTheRtcRegistersAsTheyAre()
    {
        // SeaBIOS handle_1a05/1a03/1a02/1a04: the bytes go to and come from the registers unconverted.
        using var bios = new Harness(null);
        bios.Int(0x1A, 0x0500, ecx: 0x9999, edx: 0x1231);
        bios.Int(0x1A, 0x0300, ecx: 0x2359, edx: 0x5900);
        Assert.IsFalse(bios.Carry);
        bios.Clock.AdvanceTo(MachineClock.DefaultFrequencyHz + 1);
        bios.Int(0x1A, 0x0200);
        Assert.IsFalse(bios.Carry);
        Assert.AreEqual(0x0000u, bios.Reg(Ecx) & 0xFFFF);
        Assert.AreEqual(0x00u, bios.Reg(Edx) >> 8 & 0xFF);
        bios.Int(0x1A, 0x0400);
        Assert.IsFalse(bios.Carry);
        Assert.AreEqual(0x9900u, bios.Reg(Ecx) & 0xFFFF, "year 00, century byte 99 as software left it");
        Assert.AreEqual(0x0101u, bios.Reg(Edx) & 0xFFFF);
    }
}
