namespace Sim.Cpu.Registers;

/// <summary>Bits of CR4 (SDM vol. 3, 2.5).</summary>
public static class Cr4
{
    public const ulong VME = 1UL << 0;
    public const ulong PVI = 1UL << 1;
    public const ulong TSD = 1UL << 2;
    public const ulong DE = 1UL << 3;
    public const ulong PSE = 1UL << 4;
    public const ulong PAE = 1UL << 5;
    public const ulong MCE = 1UL << 6;
    public const ulong PGE = 1UL << 7;
    public const ulong PCE = 1UL << 8;
    public const ulong OSFXSR = 1UL << 9;
    public const ulong OSXMMEXCPT = 1UL << 10;
    public const ulong UMIP = 1UL << 11;
    public const ulong VMXE = 1UL << 13;
    public const ulong SMXE = 1UL << 14;
    public const ulong FSGSBASE = 1UL << 16;
    public const ulong PCIDE = 1UL << 17;
    public const ulong OSXSAVE = 1UL << 18;
    public const ulong SMEP = 1UL << 20;
    public const ulong SMAP = 1UL << 21;

    /// <summary>
    /// The CR4 bits this processor implements, matching what CPUID announces (no VME, MCE, SMX,
    /// PKE or LA57); setting any other raises #GP. VMXE further needs a VMX unit.
    /// </summary>
    public const ulong Supported = TSD | DE | PSE | PAE | PGE | PCE | OSFXSR | OSXMMEXCPT | OSXSAVE | UMIP | VMXE | FSGSBASE | PCIDE | SMEP | SMAP;
}
