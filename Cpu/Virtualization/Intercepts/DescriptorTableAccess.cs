namespace Sim.Cpu.Virtualization;

/// <summary>LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT or STR (the intercept's instruction tells which); <paramref name="Selector"/> is what LLDT and LTR load, 0 for the others.</summary>
public readonly record struct DescriptorTableAccess(ushort Selector);
