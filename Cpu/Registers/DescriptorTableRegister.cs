namespace Sim.Cpu.Registers;

/// <summary>GDTR or IDTR: a linear base and a 16-bit limit.</summary>
public struct DescriptorTableRegister
{
    public ulong Base;
    public ushort Limit;

    public override readonly string ToString() => $"base={Base:x} limit={Limit:x}";
}
