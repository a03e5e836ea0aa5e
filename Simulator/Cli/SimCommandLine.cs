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

    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error)
    {
        using var services = BuildServices(output, error);
        var root = new RootCommand("sim — a full-system, instruction-level x86 simulator");
        root.Subcommands.Add(services.GetRequiredService<RunCommand>().Create());
        root.Subcommands.Add(services.GetRequiredService<ImageCommand>().Create());
        root.Subcommands.Add(services.GetRequiredService<FuzzCommand>().Create());
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                await error.WriteLineAsync($"sim: {parse.Errors[0].Message.ReplaceLineEndings(" ")} (see 'sim --help')");
                return UsageError;
            }
            return await parse.InvokeAsync(config);
        }
        catch (UserInputException e)
        {
            await error.WriteLineAsync($"sim: {e.Message}");
            return UsageError;
        }
        catch (Exception e)
        {
            await error.WriteLineAsync($"sim: internal error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            return InternalError;
        }
    }

    private static ServiceProvider BuildServices(TextWriter output, TextWriter error)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new ConsoleStreams(output, error));
        services.AddSingleton<GuestCatalog>();
        services.AddSingleton<ImageResolver>();
        services.AddTransient<RunCommand>();
        services.AddTransient<ImageCommand>();
        services.AddTransient<FuzzCommand>();
        return services.BuildServiceProvider();
    }
}
