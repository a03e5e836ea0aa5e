namespace Sim.Cpu.Virtualization;

/// <summary>MOV from CR<paramref name="Register"/> into the GPR <paramref name="Gpr"/>, or SMSW (CR0; before a memory operand is written, <paramref name="Gpr"/> -1 then).</summary>
public readonly record struct ControlRegisterRead(int Register, int Gpr, bool Smsw);
