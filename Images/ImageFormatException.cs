namespace Sim.Images;

/// <summary>An image that cannot be loaded; the message is one line naming the file and what is wrong.</summary>
public sealed class ImageFormatException : Exception
{
    public ImageFormatException(string name, string problem)
        : base(OneLine($"{name}: {problem}"))
    {
    }

    public ImageFormatException(string name, string problem, Exception innerException)
        : base(OneLine($"{name}: {problem}"), innerException)
    {
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
