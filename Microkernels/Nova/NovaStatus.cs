namespace Sim.Microkernels.Nova;

/// <summary>A hypercall's status, as NOVA returns it in its status register (Genode's <c>Nova::Status</c> names).</summary>
public enum NovaStatus : byte
{
    Success = 0,
    Timeout = 1,
    IpcAbort = 2,
    InvalidHypercall = 3,
    InvalidSelector = 4,
    InvalidParameter = 5,
    InvalidFeature = 6,
    InvalidCpu = 7,
    InvalidDeviceId = 8,
    PdOutOfMemory = 9,
}
