using Sim.Cli;

return await SimCommandLine.InvokeAsync(args, Console.Out, Console.Error);
