using Sim.Images.Formats;

namespace Sim.Images.Guests;

/// <summary>
/// A guest assembled in C# that runs unchanged on sim, QEMU and Bochs: either placed in memory
/// directly (<see cref="ToBootImage"/>) or booted by a BIOS from a floppy (<see cref="ToFloppy"/>).
/// </summary>
public abstract class BuiltInGuest
{
    private byte[]? payload;

    public abstract string Name { get; }

    public abstract GuestMode Mode { get; }

    /// <summary>What the guest writes to COM1 and port 0xE9, computed in C#.</summary>
    public abstract string ExpectedOutput();

    /// <summary>The code and data loaded at <see cref="GuestLayout.PayloadAddress"/>.</summary>
    public byte[] Payload() => (byte[])(payload ??= GuestPayload.Build(Mode, EmitProgram)).Clone();

    /// <summary>The payload placed in memory and entered directly in the guest's mode.</summary>
    public BootImage ToBootImage()
    {
        var entry = GuestPayload.DirectEntry(Mode);
        return new BootImage
        {
            Chunks = [new MemoryChunk(GuestLayout.PayloadAddress, Payload())],
            Entry = entry,
            Description = $"built-in guest {Name}, {Mode}, payload at 0x{GuestLayout.PayloadAddress:X}, entry {Describe(entry)}",
        };
    }

    /// <summary>A bootable 1.44 MB floppy image for a PC BIOS (QEMU, Bochs, sim's platform BIOS).</summary>
    public byte[] ToFloppy() => FloppyImage.Create(Payload());

    /// <summary>The floppy as a boot-sector image: the BIOS loads the payload through INT 13h.</summary>
    public BootImage ToFloppyBootImage() =>
        BootSectorLoader.Load(ToFloppy(), $"{Name}.img", new ImageLoadOptions(Format: ImageFormat.BootSector));

    /// <summary>The payload as a Multiboot ELF32 kernel, for QEMU's -kernel, GRUB or sim's Multiboot loader.</summary>
    public byte[] ToMultibootKernel() => MultibootKernel.Create(Payload());

    /// <summary>Emits the program, which starts with flat segments, a stack and interrupts off.</summary>
    private protected abstract void EmitProgram(GuestCode code);

    private static string Describe(EntryState entry) => entry switch
    {
        ProtectedModeEntry p => $"32-bit protected mode at 0x{p.Eip:X8}",
        LongModeEntry l => $"64-bit mode at 0x{l.Rip:X}",
        _ => entry.ToString(),
    };
}
