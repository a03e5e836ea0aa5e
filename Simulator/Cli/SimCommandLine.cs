using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Sim.Cli.Commands;

namespace Sim.Cli;

/// <summary>The `sim` command: the composition root that wires the services and the subcommands.</summary>
public static class SimCommandLine
{
    /// <summary>Exit status for bad input on the command line or in an image: one line on stderr, no stack trace.</summary>
    public const int UsageError = 2;

    /// <summary>Exit status for a failure inside the simulator itself.</summary>
    public const int InternalError = 70;

    /// <param name="output">Standard output: the guest's console bytes.</param>
    /// <param name="errorStream">Standard error: sim's messages, and guest bytes sent there.</param>
    public static async Task<int> InvokeAsync(string[] args, Stream output, Stream errorStream)
    {
        using var error = new ReportWriter(errorStream);
        using var text = new ReportWriter(output);
        using var services = BuildServices(new ConsoleStreams(output, errorStream, text, error));
        var root = new RootCommand("sim — a full-system, instruction-level x86 simulator");
        root.Subcommands.Add(services.GetRequiredService<RunCommand>().Create());
        root.Subcommands.Add(services.GetRequiredService<ImageCommand>().Create());
        root.Subcommands.Add(services.GetRequiredService<FuzzCommand>().Create());
        var config = new InvocationConfiguration { Output = text, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                error.WriteLine($"sim: {parse.Errors[0].Message.ReplaceLineEndings(" ")} (see 'sim --help')");
                return UsageError;
            }
            return await parse.InvokeAsync(config);
        }
        catch (UserInputException e)
        {
            error.WriteLine($"sim: {e.Message}");
            return UsageError;
        }
        catch (Exception e)
        {
            error.WriteLine($"sim: internal error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            return InternalError;
        }
    }

    private static ServiceProvider BuildServices(ConsoleStreams console)
    {
        var services = new ServiceCollection();
        services.AddSingleton(console);
        services.AddSingleton<GuestCatalog>();
        services.AddSingleton<ImageResolver>();
        services.AddTransient<RunCommand>();
        services.AddTransient<ImageCommand>();
        services.AddTransient<FuzzCommand>();
        return services.BuildServiceProvider();
    }
}
