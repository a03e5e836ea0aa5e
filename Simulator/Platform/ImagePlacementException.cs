namespace Sim.Platform;

/// <summary>A boot image that does not fit this machine: the message is one line saying why.</summary>
public sealed class ImagePlacementException(string message) : Exception(message);
