using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Fuzz.Cases;

/// <summary>
/// Straight-line code of device accesses: IN and OUT of every size (and INS/OUTS) to the platform
/// devices' ports, their neighbours and random ports; or loads, stores, string moves and locked
/// operations at random physical addresses (in RAM, across its end, above it, near and across 4 GiB,
/// above 4 GiB, unmapped and non-canonical). Each access is an instruction boundary the handlers can
/// resume at.
/// </summary>
internal static class DeviceCode
{
    private static readonly ushort[] DevicePorts =
    [
        0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x60, 0x64, 0x80, 0xE9,
        0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0xB00, 0xB04, 0xB08, 0xB0C, 0xB10, 0xB14, 0xB18,
        0xB1C, 0xB1E, 0xB20, 0xB22, 0xB01, 0xB23, 0x2F8, 0x3E8, 0x1F0, 0x1F7, 0x3F6, 0xCF8, 0xCFC, 0x510, 0x511,
        0x402, 0x8A00, 0x3F0, 0x378, 0x0, 0xFFFF, 0xFFFE,
    ];

    /// <summary>Ports whose writes end the run (exit ports, reset lines); written only now and then.</summary>
    private static readonly ushort[] EndingPorts = [0xF4, 0xCF9, 0x92, 0x64, 0x8900];

    public static (byte[] Code, List<int> Boundaries) Generate(Random rng, int bitness, int count, bool ports, ulong memoryBytes, FuzzSettings settings)
    {
        var code = new List<byte>();
        var boundaries = new List<int>();
        for (var i = 0; i < count; i++)
        {
            boundaries.Add(code.Count);
            var address = FuzzLayout.Code + (ulong)code.Count;
            code.AddRange(GuestBuilder.Assemble(bitness, address, a =>
            {
                if (ports) PortAccess(a, rng, bitness, settings);
                else MemoryAccess(a, rng, bitness, memoryBytes);
            }));
        }
        return (code.ToArray(), boundaries);
    }

    private static ushort Port(Random rng) => rng.Next(10) switch
    {
        < 6 => DevicePorts[rng.Next(DevicePorts.Length)],
        6 => (ushort)(DevicePorts[rng.Next(DevicePorts.Length)] + rng.Next(-3, 4)),
        7 when rng.Next(8) == 0 => EndingPorts[rng.Next(EndingPorts.Length)],
        _ => (ushort)rng.Next(0x10000),
    };

    private static void PortAccess(Assembler a, Random rng, int bitness, FuzzSettings settings)
    {
        var port = Port(rng);
        var value = (uint)RandomCode.Value(rng);
        a.mov(dx, port);
        a.mov(eax, value);
        var size = rng.Next(3);
        switch (rng.Next(8))
        {
            case < 4:
                if (size == 0) a.@out(dx, al);
                else if (size == 1) a.@out(dx, ax);
                else a.@out(dx, eax);
                break;
            case < 7:
                if (size == 0) a.@in(al, dx);
                else if (size == 1) a.@in(ax, dx);
                else a.@in(eax, dx);
                break;
            default:
                a.mov(ecx, rng.Next(1, 17));
                if (bitness == 64)
                {
                    a.mov(rsi, FuzzLayout.Data);
                    a.mov(rdi, FuzzLayout.Data + 0x800);
                }
                else
                {
                    a.mov(esi, (uint)FuzzLayout.Data);
                    a.mov(edi, (uint)FuzzLayout.Data + 0x800);
                }
                if (rng.Next(2) == 0) a.rep.outsb();
                else if (rng.Next(2) == 0) a.rep.insw();
                else a.rep.outsd();
                break;
        }
    }

    private static ulong Address(Random rng, ulong memoryBytes) => rng.Next(12) switch
    {
        0 => 0x400000UL + (ulong)rng.NextInt64((long)memoryBytes - 0x400000),
        1 => memoryBytes - (ulong)rng.Next(17),
        2 => memoryBytes + (ulong)rng.Next(16 << 20),
        3 => (ulong)(uint)rng.Next() | ((ulong)rng.Next(2) << 31),
        4 => 0xFEC0_0000UL + (ulong)rng.Next(0x1000),
        5 => 0xFEE0_0000UL + (ulong)rng.Next(0x1000),
        6 => 0xFED0_0000UL + (ulong)rng.Next(0x1000),
        7 => 0xFFFF_FFF0UL + (ulong)rng.Next(16),
        8 => 0x1_0000_0000UL + (ulong)rng.NextInt64(0x1_0000_0000),
        9 => 1UL << rng.Next(33, 47) | (uint)rng.Next(),
        10 => 0x0000_8000_0000_0000UL + (ulong)rng.Next(),
        _ => ((ulong)rng.Next(0x400, 0x100000) << 12) + 0xFF8 + (ulong)rng.Next(8),
    };

    private static void MemoryAccess(Assembler a, Random rng, int bitness, ulong memoryBytes)
    {
        var address = Address(rng, memoryBytes);
        var wide = bitness == 64;
        if (wide) a.mov(rax, address);
        else a.mov(eax, (uint)address);
        AssemblerMemoryOperand At(AssemblerMemoryOperandFactory size) => wide ? size[rax] : size[eax];
        a.mov(ebx, (uint)RandomCode.Value(rng));
        switch (rng.Next(14))
        {
            case 0: a.mov(At(__byte_ptr), bl); break;
            case 1: a.mov(At(__word_ptr), bx); break;
            case 2: a.mov(At(__dword_ptr), ebx); break;
            case 3 when wide: a.mov(__qword_ptr[rax], rbx); break;
            case 4: a.mov(bl, At(__byte_ptr)); break;
            case 5: a.mov(bx, At(__word_ptr)); break;
            case 6: a.mov(ebx, At(__dword_ptr)); break;
            case 7 when wide: a.mov(rbx, __qword_ptr[rax]); break;
            case 8: a.@lock.xadd(At(__dword_ptr), ebx); break;
            case 9: a.movdqu(xmm0, At(__xmmword_ptr)); break;
            case 10: a.cmpxchg8b(At(__qword_ptr)); break;
            case 11: a.xchg(At(__word_ptr), bx); break;
            default:
                a.mov(ecx, rng.Next(1, 64));
                if (wide)
                {
                    a.mov(rsi, rax);
                    a.mov(rdi, rng.Next(2) == 0 ? FuzzLayout.Data : Address(rng, memoryBytes));
                }
                else
                {
                    a.mov(esi, eax);
                    a.mov(edi, rng.Next(2) == 0 ? (uint)FuzzLayout.Data : (uint)Address(rng, memoryBytes));
                }
                if (rng.Next(2) == 0) a.rep.movsb();
                else a.rep.movsd();
                break;
        }
    }
}
