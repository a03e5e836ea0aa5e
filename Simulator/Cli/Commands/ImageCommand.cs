using System.CommandLine;
using Sim.Images.Guests;

namespace Sim.Cli.Commands;

/// <summary>
/// `sim image`: writes a built-in guest, or a flat 32-bit payload of the user's, as a bootable 1.44 MB
/// floppy image behind the built-in boot sector, so QEMU and Bochs can run the very same code.
/// </summary>
public sealed class ImageCommand(GuestCatalog guests, ConsoleStreams console)
{
    private readonly Argument<string?> _guest = new("guest") { Description = "Built-in guest: demo, bench32, bench64, vmx, svm, smp.", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string> _output = new("--output", "-o") { Description = "File to write.", Required = true };
    private readonly Option<uint?> _iterations = new("--iterations") { Description = "Work size of the bench32/bench64 guests." };
    private readonly Option<string?> _payload = new("--payload")
    {
        Description = "Flat image that the boot sector loads at 0x10000 and enters in 32-bit protected mode, instead of a built-in guest.",
    };

    public Command Create()
    {
        var command = new Command("image", "Write a built-in guest or a payload as a bootable floppy image for QEMU, Bochs or sim.") { _guest, _output, _iterations, _payload };
        command.SetAction(parse =>
        {
            var payloadPath = parse.GetValue(_payload);
            var guestName = parse.GetValue(_guest);
            var path = parse.GetValue(_output)!;
            byte[] floppy;
            string name;
            if (payloadPath is null)
            {
                var guest = guests.Create(guestName ?? GuestCatalog.Default, parse.GetValue(_iterations));
                floppy = guest.ToFloppy();
                name = guest.Name;
            }
            else
            {
                if (guestName is not null) throw new UserInputException("give a built-in guest or --payload, not both");
                if (parse.GetValue(_iterations) != null) throw new UserInputException("--iterations applies to the bench32 and bench64 guests only");
                floppy = PayloadFloppy(payloadPath);
                name = payloadPath;
            }

            try
            {
                File.WriteAllBytes(path, floppy);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new UserInputException(path.Length == 0 ? "the output file name is empty" : $"cannot write '{path}': {e.Message}");
            }
            console.Error.WriteLine($"sim: wrote {name} to {path}");
            return 0;
        });
        return command;
    }

    private static byte[] PayloadFloppy(string path)
    {
        byte[] payload;
        try
        {
            payload = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UserInputException(path.Length == 0 ? "the payload file name is empty" : $"cannot read '{path}': {e.Message}");
        }
        if (payload.Length == 0 || payload.Length > GuestLayout.MaxPayloadSize)
            throw new UserInputException($"the payload '{path}' is {payload.Length} bytes; the boot sector loads 1 to {GuestLayout.MaxPayloadSize} bytes");
        return FloppyImage.Create(payload);
    }
}
