namespace Sim.Vmx.Ept;

/// <summary>
/// Why the EPT walker refused a guest-physical access: an EPT violation with its exit
/// qualification (SDM vol. 3, table 28-7, without bit 12, which the VM exit adds) or an EPT
/// misconfiguration (exit reason 49, no qualification).
/// </summary>
public readonly record struct EptFault(
    bool Misconfiguration,
    ulong GuestPhysicalAddress,
    ulong GuestLinearAddress,
    bool GuestLinearAddressValid,
    ulong ExitQualification);
