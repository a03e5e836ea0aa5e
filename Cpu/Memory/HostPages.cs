using System.Runtime.InteropServices;

namespace Sim.Cpu.Memory;

/// <summary>
/// Host address space for guest RAM: reserved in one piece and committed by the host's kernel page
/// by page on first touch, reading as zeros until then (as QEMU's RAM behaves), so that a large RAM
/// costs only what the guest touches.
/// </summary>
internal static unsafe partial class HostPages
{
    private const int ProtReadWrite = 0x1 | 0x2;
    private const int MapPrivate = 0x02;
    private const int MemCommit = 0x1000, MemReserve = 0x2000, MemRelease = 0x8000, PageReadWrite = 0x04;
    private const int AdviseDontNeed = 4;

    private static int MapFlags => OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()
        ? MapPrivate | 0x1000 | 0x40
        : MapPrivate | 0x20 | 0x4000;

    /// <summary>Zeroed memory of <paramref name="size"/> bytes, page-aligned.</summary>
    public static byte* Reserve(ulong size)
    {
        void* p;
        if (OperatingSystem.IsWindows())
        {
            p = VirtualAlloc(null, (nuint)size, MemReserve | MemCommit, PageReadWrite);
            if (p == null) throw Refused(size);
        }
        else
        {
            p = Mmap(null, (nuint)size, ProtReadWrite, MapFlags, -1, 0);
            if (p == (void*)-1) throw Refused(size);
        }

        return (byte*)p;
    }

    public static void Release(byte* p, ulong size)
    {
        if (OperatingSystem.IsWindows()) VirtualFree(p, 0, MemRelease);
        else Munmap(p, (nuint)size);
    }

    /// <summary>Makes whole pages read as zeros again and returns them to the host.</summary>
    public static void Discard(byte* p, ulong size)
    {
        if (OperatingSystem.IsWindows() || Madvise(p, (nuint)size, AdviseDontNeed) != 0) NativeMemory.Clear(p, (nuint)size);
    }

    private static InsufficientMemoryException Refused(ulong size) =>
        new($"the host cannot reserve {size} bytes for guest RAM ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int descriptor, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(void* address, nuint length, int advice);

    [LibraryImport("kernel32", SetLastError = true)]
    private static partial void* VirtualAlloc(void* address, nuint size, int allocationType, int protection);

    [LibraryImport("kernel32", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool VirtualFree(void* address, nuint size, int freeType);
}
