namespace Sim.Images.Tests;

internal static class ExceptionAssert
{
    /// <summary>Asserts an <see cref="ImageFormatException"/> whose message is one line containing every fragment.</summary>
    public static ImageFormatException ThrowsImageFormat(Action action, params string[] fragments)
    {
        var e = Assert.ThrowsExactly<ImageFormatException>(action);
        Assert.IsFalse(e.Message.Contains('\n') || e.Message.Contains('\r'), $"message is not one line: {e.Message}");
        foreach (var fragment in fragments)
        {
            Assert.IsTrue(e.Message.Contains(fragment, StringComparison.OrdinalIgnoreCase), $"message lacks '{fragment}': {e.Message}");
        }

        return e;
    }
}
