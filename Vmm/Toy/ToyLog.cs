using Sim.Vmm.Genode;

namespace Sim.Vmm.Toy;

/// <summary>The toy's log and error lines, worded as Genode's test writes them; errors mark the run failed.</summary>
internal sealed class ToyLog(IGenodeEnv env, ToyVmm owner)
{
    public IGenodeEnv Env { get; } = env;

    public void Log(string line) => Env.Log(line);

    public void Error(string message)
    {
        Env.Error(message);
        owner.ReportError(message);
    }

    /// <summary>Genode's <c>Hex()</c>: "0x", lower-case digits, no leading zeros.</summary>
    public static string Hex(ulong value) => "0x" + value.ToString("x");
}
