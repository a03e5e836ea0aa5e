namespace Sim.Microkernels.Kernel;

/// <summary>A VMX instruction of a host machine's set-up did not succeed; the message names the instruction or field and the result.</summary>
public sealed class VmxHostException(string message) : Exception(message);
