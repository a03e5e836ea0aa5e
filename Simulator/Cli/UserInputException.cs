namespace Sim.Cli;

/// <summary>Bad input from the user (an option value, an image); reported as one line without a stack trace.</summary>
public sealed class UserInputException(string message) : Exception(message);
