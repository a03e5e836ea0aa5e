namespace Sim.Cpu.Virtualization;

/// <summary>
/// MOV to or from DR<paramref name="Register"/> (as encoded) with the GPR <paramref name="Gpr"/>,
/// offered before its faults: <paramref name="FaultsIfDeclined"/> says that #GP (CPL &gt; 0) or #UD
/// (CR4.DE with DR4/DR5) follows if the unit declines.
/// </summary>
public readonly record struct DebugRegisterAccess(int Register, int Gpr, bool Write, bool FaultsIfDeclined);
