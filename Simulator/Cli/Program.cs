using Sim.Cli;

using var stdout = Console.OpenStandardOutput();
using var stderr = Console.OpenStandardError();
return await SimCommandLine.InvokeAsync(args, stdout, stderr);
