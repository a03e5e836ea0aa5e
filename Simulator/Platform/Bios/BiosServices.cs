using Sim.Cpu.Memory;
using Sim.Platform.Devices;

namespace Sim.Platform.Bios;

/// <summary>
/// The paravirtual device behind the BIOS's software-interrupt services. The ROM's handler for INT n
/// writes the caller's registers to the register file, writes n to the call port, and loads the
/// registers and FLAGS back; the service itself (disk reads from the boot image, the E820 map, the
/// clock, teletype output to COM1) runs here in C#.
/// <para>Ports (all little-endian): 0xB00 EAX, 0xB04 EBX, 0xB08 ECX, 0xB0C EDX, 0xB10 ESI, 0xB14 EDI,
/// 0xB18 EBP (32-bit each), 0xB1C DS, 0xB1E ES (16-bit), 0xB20 call port (byte write: perform INT n),
/// 0xB22 FLAGS (16-bit: the caller's FLAGS in, the FLAGS to return with out).</para>
/// </summary>
public sealed class BiosServices : IPortDevice
{
    public const ushort BasePort = 0xB00;
    public const int PortCount = 0x24;

    public const ushort CallPort = BasePort + 0x20;
    public const ushort FlagsPort = BasePort + 0x22;

    private const ushort CarryFlag = 0x0001, ZeroFlag = 0x0040;

    private readonly PhysicalMemory _memory;
    private readonly Uart16550A _console;
    private readonly RtcMc146818 _rtc;
    private readonly A20Gate _a20;
    private readonly uint[] _gpr = new uint[7];
    private ushort _ds, _es, _flags;
    private byte[]? _disk;
    private byte _bootDrive;
    private byte _lastStatus;

    public BiosServices(PhysicalMemory memory, Uart16550A console, RtcMc146818 rtc, A20Gate a20)
    {
        _memory = memory;
        _console = console;
        _rtc = rtc;
        _a20 = a20;
    }

    public DiskGeometry? Geometry { get; private set; }

    public void AttachDisk(byte[] image, byte drive)
    {
        _disk = image;
        _bootDrive = drive;
        Geometry = DiskGeometry.For(image.Length, drive);
    }

    private uint Eax { get => _gpr[0]; set => _gpr[0] = value; }
    private uint Ebx { get => _gpr[1]; set => _gpr[1] = value; }
    private uint Ecx { get => _gpr[2]; set => _gpr[2] = value; }
    private uint Edx { get => _gpr[3]; set => _gpr[3] = value; }
    private uint Esi => _gpr[4];
    private uint Edi { get => _gpr[5]; set => _gpr[5] = value; }
    private uint Ebp => _gpr[6];

    private byte Ah { get => (byte)(Eax >> 8); set => Eax = (Eax & 0xFFFF00FF) | (uint)value << 8; }
    private byte Al { get => (byte)Eax; set => Eax = (Eax & 0xFFFFFF00) | value; }
    private ushort Ax { set => Eax = (Eax & 0xFFFF0000) | value; }
    private ushort Bx { get => (ushort)Ebx; set => Ebx = (Ebx & 0xFFFF0000) | value; }
    private ushort Cx { get => (ushort)Ecx; set => Ecx = (Ecx & 0xFFFF0000) | value; }
    private ushort Dx { set => Edx = (Edx & 0xFFFF0000) | value; }
    private byte Dl => (byte)Edx;
    private byte Dh => (byte)(Edx >> 8);

    public uint Read(ushort port, int size)
    {
        var offset = port - BasePort;
        if (offset < 0x1C) return _gpr[offset >> 2] >> (8 * (offset & 3));
        return offset switch
        {
            0x1C => _ds,
            0x1E => _es,
            0x22 => _flags,
            _ => 0,
        };
    }

    public void Write(ushort port, int size, uint value)
    {
        var offset = port - BasePort;
        if (offset < 0x1C && (offset & 3) == 0)
        {
            _gpr[offset >> 2] = size == 4 ? value : (_gpr[offset >> 2] & ~(uint)((1L << (8 * size)) - 1)) | value;
            return;
        }
        switch (offset)
        {
            case 0x1C: _ds = (ushort)value; break;
            case 0x1E: _es = (ushort)value; break;
            case 0x22: _flags = (ushort)value; break;
            case 0x20: Call((byte)value); break;
        }
    }

    /// <summary>Runs the service of INT <paramref name="vector"/> on the register file.</summary>
    public void Call(byte vector)
    {
        switch (vector)
        {
            case 0x10: Video(); break;
            case 0x11: Ax = ReadWord(0x410); break;
            case 0x12: Ax = ReadWord(0x413); break;
            case 0x13: Disk(); break;
            case 0x15: System(); break;
            case 0x16: Keyboard(); break;
            case 0x1A: Clock(); break;
        }
    }

    private void SetCarry(bool carry) => _flags = carry ? (ushort)(_flags | CarryFlag) : (ushort)(_flags & ~CarryFlag);

    private void SetZero(bool zero) => _flags = zero ? (ushort)(_flags | ZeroFlag) : (ushort)(_flags & ~ZeroFlag);

    private ushort ReadWord(ulong address) => (ushort)_memory.Read(address, 2);

    private static ulong RealAddress(ushort segment, ushort offset) => ((ulong)segment << 4) + offset;

    private void Video()
    {
        switch (Ah)
        {
            case 0x0E:
                _console.Transmit(Al);
                break;
            case 0x0F:
                Al = 0x03;
                Ah = 80;
                Bx = (ushort)(Bx & 0x00FF);
                break;
            case 0x03:
                Cx = 0x0607;
                Dx = 0;
                break;
            case 0x13:
            {
                // Write string: ES:BP, CX characters; with AL bit 1 set the string interleaves attributes.
                var step = (Al & 0x02) != 0 ? 2UL : 1UL;
                var address = RealAddress(_es, (ushort)Ebp);
                for (var i = 0; i < Cx; i++) _console.Transmit((byte)_memory.Read(address + (ulong)i * step, 1));
                break;
            }
        }
    }

    private void Disk()
    {
        var function = Ah;
        if (function == 0x01)
        {
            Ah = _lastStatus;
            SetCarry(_lastStatus != 0);
            return;
        }
        var status = DiskFunction(function);
        _lastStatus = status;
        // BDA: last floppy status at 0x441, last hard-disk status at 0x474, chosen by DL as SeaBIOS does.
        _memory.Write(Dl < 0x80 ? 0x441UL : 0x474UL, 1, status);
        if (function is 0x08 or 0x15 or 0x41 && status == 0) return;
        Ah = status;
        SetCarry(status != 0);
    }

    /// <summary>
    /// One INT 13h function; returns its <see cref="DiskStatus"/>. The checks and their order follow
    /// SeaBIOS's disk.c: a count of 0 or above 128 sectors, sector 0, or a cylinder, head or sector
    /// beyond the geometry (basic_access), or an LBA at or past the last sector (extended_access) is an
    /// invalid parameter; an extended transfer of 0 sectors succeeds and does nothing.
    /// </summary>
    private byte DiskFunction(byte function)
    {
        if (_disk == null || Geometry == null || Dl != _bootDrive) return DiskStatus.InvalidParameter;
        var g = Geometry;
        switch (function)
        {
            case 0x00: return DiskStatus.Success;
            case 0x02:
            case 0x03:
            case 0x04:
            {
                var count = Al;
                var sector = Cx & 0x3F;
                var cylinder = (Cx >> 8) | ((Cx & 0xC0) << 2);
                var head = Dh;
                if (count is 0 or > 128 || sector == 0) return DiskStatus.InvalidParameter;
                if (cylinder >= g.Cylinders || head >= g.Heads || sector > g.SectorsPerTrack) return DiskStatus.InvalidParameter;
                var lba = ((ulong)cylinder * (ulong)g.Heads + head) * (ulong)g.SectorsPerTrack + (ulong)(sector - 1);
                var (status, done) = Transfer(function, lba, count, RealAddress(_es, Bx));
                Al = (byte)done;
                return status;
            }
            case 0x08:
            {
                var maxCylinder = g.Cylinders - 1;
                Ax = 0;
                Cx = (ushort)((maxCylinder & 0xFF) << 8 | (maxCylinder >> 2 & 0xC0) | g.SectorsPerTrack);
                Dx = (ushort)((g.Heads - 1) << 8 | 1);
                if (g.IsFloppy)
                {
                    Bx = (ushort)(Bx & 0xFF00 | g.FloppyType);
                    // ES:DI would point to the diskette parameter table; the vector 1Eh table is not modelled.
                    _es = 0;
                    Edi &= 0xFFFF0000;
                }
                SetCarry(false);
                return DiskStatus.Success;
            }
            case 0x15:
                if (g.IsFloppy)
                {
                    Ah = 0x01;
                }
                else
                {
                    Ah = 0x03;
                    Cx = (ushort)(g.TotalSectors >> 16);
                    Dx = (ushort)g.TotalSectors;
                }
                SetCarry(false);
                return DiskStatus.Success;
            case 0x41:
                if (Bx != 0x55AA) return DiskStatus.InvalidParameter;
                Bx = 0xAA55;
                Cx = 0x0001;
                Ah = 0x30;
                SetCarry(false);
                return DiskStatus.Success;
            case 0x42:
            case 0x43:
            case 0x44:
            {
                var packet = RealAddress(_ds, (ushort)Esi);
                var lba = _memory.Read(packet + 8, 8);
                if (lba >= g.TotalSectors) return DiskStatus.InvalidParameter;
                var count = ReadWord(packet + 2);
                if (count == 0) return DiskStatus.Success;
                // The EDD 3.0 64-bit flat buffer (at 10h, for a buffer of FFFF:FFFF) is not supported,
                // as in SeaBIOS: the buffer is the segment:offset at 04h.
                var offset = ReadWord(packet + 4);
                var segment = ReadWord(packet + 6);
                var (status, done) = Transfer((byte)(function - 0x40), lba, count, RealAddress(segment, offset));
                _memory.Write(packet + 2, 2, (ulong)done);
                return status;
            }
            case 0x48:
            {
                var buffer = RealAddress(_ds, (ushort)Esi);
                if (ReadWord(buffer) < 0x1A) return DiskStatus.InvalidParameter;
                _memory.Write(buffer, 2, 0x1A);
                _memory.Write(buffer + 2, 2, 0x02);
                _memory.Write(buffer + 4, 4, (uint)g.Cylinders);
                _memory.Write(buffer + 8, 4, (uint)g.Heads);
                _memory.Write(buffer + 12, 4, (uint)g.SectorsPerTrack);
                _memory.Write(buffer + 16, 8, g.TotalSectors);
                _memory.Write(buffer + 24, 2, DiskGeometry.SectorSize);
                return DiskStatus.Success;
            }
            default:
                return DiskStatus.InvalidParameter;
        }
    }

    /// <summary>
    /// Reads (02h), writes (03h) or verifies (04h) <paramref name="count"/> sectors from
    /// <paramref name="lba"/>; returns the status and the sectors transferred. A range that runs past
    /// the last sector is refused whole, as an ATA drive aborts it before any data moves (SeaBIOS then
    /// answers 0Ch); the image is read-only media, so writes answer 03h.
    /// </summary>
    private (byte Status, int Done) Transfer(byte command, ulong lba, int count, ulong address)
    {
        var total = Geometry!.TotalSectors;
        if (lba >= total || (ulong)count > total - lba) return (DiskStatus.BadTrack, 0);
        if (command == 0x03) return (DiskStatus.WriteProtected, 0);
        if (command == 0x02) CopyToRam(lba, count, address);
        return (DiskStatus.Success, count);
    }

    /// <summary>
    /// Copies the sectors to RAM; bytes that fall past the end of RAM go nowhere, like a bus cycle to
    /// absent memory, and the tail of an image that ends inside its last sector reads as zeros.
    /// </summary>
    private void CopyToRam(ulong lba, int count, ulong address)
    {
        var disk = _disk!;
        var ram = _memory.RamSize;
        if (address >= ram) return;
        var length = Math.Min((ulong)count * DiskGeometry.SectorSize, ram - address);
        var start = lba * DiskGeometry.SectorSize;
        var fromImage = Math.Min(length, (ulong)disk.LongLength - start);
        _memory.WriteBytes(address, disk.AsSpan((int)start, (int)fromImage));
        for (var zero = fromImage; zero < length; zero++) _memory.Write(address + zero, 1, 0);
    }

    private void System()
    {
        var ax = (ushort)Eax;
        if (Eax == 0xE820 && Edx == 0x534D4150)
        {
            MemoryMap();
            return;
        }
        switch (ax)
        {
            case 0x2400:
            case 0x2401:
                _a20.FromPortA = ax == 0x2401;
                _a20.FromKeyboardController = ax == 0x2401;
                Ah = 0;
                SetCarry(false);
                return;
            case 0x2402:
                Ah = 0;
                Al = _a20.Enabled ? (byte)1 : (byte)0;
                SetCarry(false);
                return;
            case 0x2403:
                Ah = 0;
                Bx = 0x0003;
                SetCarry(false);
                return;
            case 0xE801:
            {
                var ram = _memory.RamSize;
                var between = (ushort)Math.Min(ram > 0x100000 ? (ram - 0x100000) / 1024 : 0, 0x3C00);
                var above = (ushort)Math.Min(ram > 0x1000000 ? (ram - 0x1000000) / 65536 : 0, 0xFFFF);
                Ax = between;
                Cx = between;
                Bx = above;
                Dx = above;
                SetCarry(false);
                return;
            }
        }
        switch (Ah)
        {
            case 0x88:
                Ax = (ushort)Math.Min(_memory.RamSize > 0x100000 ? (_memory.RamSize - 0x100000) / 1024 : 0, 0xFFFF);
                SetCarry(false);
                return;
            case 0x86:
                SetCarry(false);
                return;
            default:
                Ah = 0x86;
                SetCarry(true);
                return;
        }
    }

    private void MemoryMap()
    {
        var map = E820Map.For(_memory.RamSize);
        var index = Ebx;
        if (index >= map.Count || Ecx < 20)
        {
            Ah = 0x86;
            SetCarry(true);
            return;
        }
        var (baseAddress, length, type) = map[(int)index];
        var buffer = RealAddress(_es, (ushort)Edi);
        _memory.Write(buffer, 8, baseAddress);
        _memory.Write(buffer + 8, 8, length);
        _memory.Write(buffer + 16, 4, type);
        var written = 20u;
        if (Ecx >= 24)
        {
            // ACPI 3.0 extended attributes: bit 0 "enabled".
            _memory.Write(buffer + 20, 4, 1);
            written = 24;
        }
        Eax = 0x534D4150;
        Ecx = written;
        Ebx = index + 1 < map.Count ? index + 1 : 0;
        SetCarry(false);
    }

    private void Keyboard()
    {
        switch (Ah)
        {
            case 0x00:
            case 0x10:
                Ax = 0;
                break;
            case 0x01:
            case 0x11:
                SetZero(true);
                break;
            case 0x02:
            case 0x12:
                Al = 0;
                break;
        }
    }

    /// <summary>INT 1Ah: the BDA tick counter, and the RTC's registers read and written as they are, as SeaBIOS's clock.c does.</summary>
    private void Clock()
    {
        const byte Dse = 0x01, Hour24 = 0x02, Aie = 0x20, Pie = 0x40, Set = 0x80;
        switch (Ah)
        {
            case 0x00:
            {
                var ticks = (uint)_memory.Read(0x46C, 4);
                Cx = (ushort)(ticks >> 16);
                Dx = (ushort)ticks;
                Al = (byte)_memory.Read(0x470, 1);
                _memory.Write(0x470, 1, 0);
                SetCarry(false);
                return;
            }
            case 0x01:
                _memory.Write(0x46C, 4, (uint)Cx << 16 | (ushort)Edx);
                _memory.Write(0x470, 1, 0);
                SetCarry(false);
                return;
            case 0x02:
            {
                var hours = _rtc.ReadRegister(RtcMc146818.Hours);
                Cx = (ushort)(hours << 8 | _rtc.ReadRegister(RtcMc146818.Minutes));
                Dx = (ushort)(_rtc.ReadRegister(RtcMc146818.Seconds) << 8 | (_rtc.ReadRegister(RtcMc146818.RegisterB) & Dse));
                Ah = 0;
                Al = hours;
                SetCarry(false);
                return;
            }
            case 0x03:
            {
                _rtc.WriteRegister(RtcMc146818.Seconds, Dh);
                _rtc.WriteRegister(RtcMc146818.Minutes, (byte)Cx);
                _rtc.WriteRegister(RtcMc146818.Hours, (byte)(Cx >> 8));
                var b = (byte)((_rtc.ReadRegister(RtcMc146818.RegisterB) & (Pie | Aie)) | Hour24 | (Dl & Dse));
                _rtc.WriteRegister(RtcMc146818.RegisterB, b);
                Ah = 0;
                Al = b;
                SetCarry(false);
                return;
            }
            case 0x04:
            {
                var century = _rtc.ReadRegister(RtcMc146818.CenturyIndex);
                Cx = (ushort)(century << 8 | _rtc.ReadRegister(RtcMc146818.Year));
                Dx = (ushort)(_rtc.ReadRegister(RtcMc146818.Month) << 8 | _rtc.ReadRegister(RtcMc146818.DateOfMonth));
                Ah = 0;
                Al = century;
                SetCarry(false);
                return;
            }
            case 0x05:
            {
                _rtc.WriteRegister(RtcMc146818.Year, (byte)Cx);
                _rtc.WriteRegister(RtcMc146818.Month, Dh);
                _rtc.WriteRegister(RtcMc146818.DateOfMonth, Dl);
                _rtc.WriteRegister(RtcMc146818.CenturyIndex, (byte)(Cx >> 8));
                var b = (byte)(_rtc.ReadRegister(RtcMc146818.RegisterB) & ~Set);
                _rtc.WriteRegister(RtcMc146818.RegisterB, b);
                Ah = 0;
                Al = b;
                SetCarry(false);
                return;
            }
            default:
                SetCarry(true);
                return;
        }
    }
}
