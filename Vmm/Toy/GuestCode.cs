using Iced.Intel;

namespace Sim.Vmm.Toy;

/// <summary>
/// The guest page of the VMM test: 4 KiB mapped at guest-physical 0xfffff000, the page of the reset
/// vector. With CS base 0xffff0000 the IP of page offset <c>o</c> is <c>0xf000 + o</c>.
/// </summary>
public static class GuestCode
{
    public const int PageSize = 0x1000;

    public const ulong GuestPhysical = 0xffff_f000;

    /// <summary>The reset vector's offset (IP 0xfff0).</summary>
    public const int ResetVector = 0xff0;

    /// <summary>Where <c>guest.s</c> starts its code, close enough to the reset vector for a short jump.</summary>
    public const int CodeStart = 0xf7e;

    private const ushort IpBase = 0xf000;

    private const byte Nop = 0x90;

    private const byte Hlt = 0xf4;

    /// <summary>Genode 19.05: the VMM pokes HLT, HLT, JMP $ (EB FE), HLT at 0xff0 into a zeroed page.</summary>
    public static byte[] Genode1905Page()
    {
        var page = new byte[PageSize];
        ReadOnlySpan<byte> code = [Hlt, Hlt, 0xeb, 0xfe, Hlt];
        code.CopyTo(page.AsSpan(ResetVector));
        return page;
    }

    /// <summary>
    /// Current Genode's <c>guest.s</c>, assembled as 16-bit code: NOPs up to 0xf7e, then RDTSCP, HLT,
    /// HLT, JMP $, HLT, JMP $; NOPs up to the reset vector, whose short JMP goes back to 0xf7e; HLT to
    /// the end of the page.
    /// </summary>
    public static byte[] CurrentPage()
    {
        var page = new byte[PageSize];
        page.AsSpan(0, CodeStart).Fill(Nop);

        var body = Assemble(IpBase + CodeStart, a =>
        {
            a.rdtscp();
            a.hlt();
            a.hlt();
            var loop1 = a.CreateLabel();
            a.Label(ref loop1);
            a.jmp(loop1);
            a.hlt();
            var loop2 = a.CreateLabel();
            a.Label(ref loop2);
            a.jmp(loop2);
        });
        body.CopyTo(page, CodeStart);
        page.AsSpan(CodeStart + body.Length, ResetVector - (CodeStart + body.Length)).Fill(Nop);

        var reset = Assemble(IpBase + ResetVector, a => a.jmp((ulong)(IpBase + CodeStart)));
        reset.CopyTo(page, ResetVector);
        page.AsSpan(ResetVector + reset.Length).Fill(Hlt);
        return page;
    }

    private static byte[] Assemble(ulong ip, Action<Assembler> emit)
    {
        var assembler = new Assembler(16);
        emit(assembler);
        using var stream = new MemoryStream();
        assembler.Assemble(new StreamCodeWriter(stream), ip);
        return stream.ToArray();
    }
}
