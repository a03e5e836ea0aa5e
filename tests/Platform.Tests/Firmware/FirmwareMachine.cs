using System.Buffers.Binary;
using System.Text;
using Sim.Images;

namespace Sim.Platform.Tests.Firmware;

/// <summary>A machine loaded with a halting protected-mode guest, so that the firmware state is in memory, and readers for it.</summary>
internal static class FirmwareMachine
{
    public static Machine Create(int cpus = 1, ulong memoryBytes = 64UL << 20)
    {
        var machine = new Machine(new MachineConfig { Cpus = cpus, MemoryBytes = memoryBytes, MaxInstructions = 1000 });
        machine.Load(new BootImage { Chunks = [new MemoryChunk(0x100000, [0xF4])], Entry = new ProtectedModeEntry(0x100000, 0, 0), Description = "hlt" });
        return machine;
    }

    public static byte[] Bytes(this Machine machine, ulong address, int length)
    {
        var bytes = new byte[length];
        machine.Memory.ReadBytes(address, bytes);
        return bytes;
    }

    public static string Ascii(this byte[] bytes, int offset, int length) => Encoding.ASCII.GetString(bytes, offset, length);

    public static ushort U16(this byte[] b, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(offset));

    public static uint U32(this byte[] b, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset));

    public static ulong U64(this byte[] b, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(offset));

    public static byte Sum(this byte[] b, int offset, int length)
    {
        byte sum = 0;
        for (var i = 0; i < length; i++) sum += b[offset + i];
        return sum;
    }

    /// <summary>ACPI 6.5, 5.2.5.1: the EBDA's first KiB (segment at 40:0Eh), then E0000h–FFFFFh, on 16-byte boundaries; every valid RSDP found.</summary>
    public static List<ulong> FindRsdps(Machine machine)
    {
        var found = new List<ulong>();
        var ebda = (ulong)machine.Bytes(0x40E, 2).U16(0) << 4;
        foreach (var (start, length) in new[] { (ebda, 1024UL), (0xE0000UL, 0x20000UL) })
        {
            for (var at = start; at < start + length; at += 16)
            {
                var candidate = machine.Bytes(at, 36);
                if (candidate.Ascii(0, 8) == "RSD PTR " && candidate.Sum(0, 20) == 0) found.Add(at);
            }
        }
        return found;
    }

    /// <summary>The tables the XSDT lists, by signature, each read whole by its header's length.</summary>
    public static Dictionary<string, (ulong Address, byte[] Bytes)> Tables(Machine machine)
    {
        var rsdp = machine.Bytes(FindRsdps(machine)[0], 36);
        var xsdt = Table(machine, rsdp.U64(24));
        var tables = new Dictionary<string, (ulong Address, byte[] Bytes)> { ["XSDT"] = (rsdp.U64(24), xsdt), ["RSDT"] = (rsdp.U32(16), Table(machine, rsdp.U32(16))) };
        for (var at = 36; at < xsdt.Length; at += 8)
        {
            var address = xsdt.U64(at);
            var table = Table(machine, address);
            tables[table.Ascii(0, 4)] = (address, table);
        }
        var fadt = tables["FACP"].Bytes;
        tables["DSDT"] = (fadt.U64(140), Table(machine, fadt.U64(140)));
        tables["FACS"] = (fadt.U32(36), machine.Bytes(fadt.U32(36), 64));
        return tables;
    }

    public static byte[] Table(Machine machine, ulong address) => machine.Bytes(address, (int)machine.Bytes(address + 4, 4).U32(0));
}
