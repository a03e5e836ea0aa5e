using Iced.Intel;
using Sim.Images.Guests;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Differential.Tests;

/// <summary>
/// A 1.44 MB floppy that boots a guest through a PC BIOS: Images' boot sector loads the payload to
/// <see cref="GuestLayout.PayloadAddress"/> and enters it in 32-bit protected mode; the payload's
/// relocator copies the guest image to <see cref="DataLayout.LoadAddress"/>, announces the start of
/// the records on port E9h and enters the guest as a Multiboot loader would.
/// </summary>
public static class BochsFloppy
{
    /// <summary>Written to port E9h just before the guest starts: the guest's records follow it.</summary>
    public static readonly byte[] RecordsMarker = "\n<sim-diff records>\n"u8.ToArray();

    private const uint RelocatorSize = 0x200;

    public static byte[] Create(Guest guest)
    {
        var payload = new byte[RelocatorSize + guest.Image.Length];
        AssembleRelocator(guest).CopyTo(payload, 0);
        guest.Image.CopyTo(payload, RelocatorSize);
        return FloppyImage.Create(payload);
    }

    private static byte[] AssembleRelocator(Guest guest)
    {
        var a = new Assembler(32);
        // The boot sector's far jump reloaded CS only; the data segments still hold real-mode values.
        a.mov(ax, GuestLayout.DataSelector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(ss, ax);
        a.mov(esp, GuestLayout.StackTop);
        a.cld();
        a.mov(esi, GuestLayout.PayloadAddress + RelocatorSize);
        a.mov(edi, DataLayout.LoadAddress);
        a.mov(ecx, (uint)guest.Image.Length);
        a.rep.movsb();
        a.mov(dx, 0xE9);
        foreach (var b in RecordsMarker)
        {
            a.mov(al, b);
            a.@out(dx, al);
        }
        a.mov(eax, 0x2BADB002);
        a.xor(ebx, ebx);
        a.jmp((ulong)guest.EntryPoint);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), GuestLayout.PayloadAddress);
        if (stream.Length > RelocatorSize) throw new InvalidOperationException("relocator too large");
        return stream.ToArray();
    }
}
