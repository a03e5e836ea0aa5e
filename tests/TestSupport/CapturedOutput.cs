using System.Text;

namespace Sim.TestSupport;

/// <summary>A guest output channel for tests: keeps the bytes and shows them one character per byte.</summary>
internal sealed class CapturedOutput : MemoryStream
{
    public override string ToString() => Encoding.Latin1.GetString(GetBuffer(), 0, (int)Length);
}
