using System.CommandLine;

namespace Sim.Cli.Commands;

/// <summary>`sim image`: writes a built-in guest as a bootable 1.44 MB floppy image, so QEMU and Bochs can run the very same code.</summary>
public sealed class ImageCommand(GuestCatalog guests, ConsoleStreams console)
{
    private readonly Argument<string> _guest = new("guest") { Description = "Built-in guest: demo, bench32, bench64, vmx, svm, smp." };
    private readonly Option<string> _output = new("--output", "-o") { Description = "File to write.", Required = true };
    private readonly Option<uint?> _iterations = new("--iterations") { Description = "Work size of the bench32/bench64 guests." };

    public Command Create()
    {
        var command = new Command("image", "Write a built-in guest as a bootable floppy image for QEMU, Bochs or sim.") { _guest, _output, _iterations };
        command.SetAction(parse =>
        {
            var guest = guests.Create(parse.GetValue(_guest)!, parse.GetValue(_iterations));
            var path = parse.GetValue(_output)!;
            try
            {
                File.WriteAllBytes(path, guest.ToFloppy());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new UserInputException(path.Length == 0 ? "the output file name is empty" : $"cannot write '{path}': {e.Message}");
            }
            console.Error.WriteLine($"sim: wrote {guest.Name} to {path}");
            return 0;
        });
        return command;
    }
}
