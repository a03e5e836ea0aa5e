using System.Buffers.Binary;
using System.Text;

namespace Sim.Images.Tests;

/// <summary>Reads a boot image's chunks the way a kernel reads physical memory.</summary>
internal sealed class GuestMemory(BootImage image)
{
    public byte[] Read(ulong address, int length)
    {
        var chunk = image.Chunks.SingleOrDefault(c => address >= c.Address && address + (ulong)length <= c.Address + (ulong)c.Data.Length)
            ?? throw new AssertFailedException($"no chunk holds 0x{address:X}+{length}");
        return chunk.Data.AsSpan((int)(address - chunk.Address), length).ToArray();
    }

    public uint U32(ulong address) => BinaryPrimitives.ReadUInt32LittleEndian(Read(address, 4));

    public ulong U64(ulong address) => BinaryPrimitives.ReadUInt64LittleEndian(Read(address, 8));

    public string CString(ulong address)
    {
        var bytes = new List<byte>();
        for (var a = address; ; a++)
        {
            var b = Read(a, 1)[0];
            if (b == 0)
            {
                return Encoding.UTF8.GetString(bytes.ToArray());
            }

            bytes.Add(b);
        }
    }
}
