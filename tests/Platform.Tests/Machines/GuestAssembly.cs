using Iced.Intel;

namespace Sim.Platform.Tests.Machines;

internal static class GuestAssembly
{
    public static byte[] Assemble(Assembler a, ulong origin)
    {
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), origin);
        return stream.ToArray();
    }

    /// <summary>A 512-byte boot sector (with the 55AAh signature) holding <paramref name="code"/>, followed by <paramref name="more"/>.</summary>
    public static byte[] Disk(byte[] code, params byte[][] more)
    {
        var sectors = 1 + more.Length;
        var disk = new byte[sectors * 512];
        code.CopyTo(disk, 0);
        disk[510] = 0x55;
        disk[511] = 0xAA;
        for (var i = 0; i < more.Length; i++) more[i].CopyTo(disk, 512 * (i + 1));
        return disk;
    }
}
