using System.Runtime.CompilerServices;

namespace Sim.Cpu.Memory;

/// <summary>A little-endian value of 1, 2, 4 or 8 bytes at a host pointer into guest RAM, as every fast path reads and writes it.</summary>
internal static unsafe class HostAccess
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(byte* p, int size) => size switch
    {
        1 => *p,
        2 => *(ushort*)p,
        4 => *(uint*)p,
        _ => *(ulong*)p,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(byte* p, int size, ulong value)
    {
        switch (size)
        {
            case 1: *p = (byte)value; break;
            case 2: *(ushort*)p = (ushort)value; break;
            case 4: *(uint*)p = (uint)value; break;
            default: *(ulong*)p = value; break;
        }
    }
}
