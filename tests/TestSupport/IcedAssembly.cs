using Iced.Intel;

namespace Sim.TestSupport;

/// <summary>Guest code for tests, assembled with Iced.</summary>
internal static class IcedAssembly
{
    /// <summary>The machine code of what <paramref name="build"/> emits, assembled for <paramref name="address"/>.</summary>
    public static byte[] Assemble(int bitness, ulong address, Action<Assembler> build)
    {
        var asm = new Assembler(bitness);
        build(asm);
        var stream = new MemoryStream();
        asm.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }
}
