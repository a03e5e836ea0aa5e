using System.Text;

namespace Sim.Cpu;

/// <summary>
/// CPUID: one coherent feature set that matches what the interpreter implements. Basic leaves
/// 0, 1 and 7 and extended leaves 8000_0000h–8000_0008h; a leaf above the maximum returns the
/// highest basic leaf, as Intel processors do. Features not announced (FPU, SSE, XSAVE, MONITOR,
/// BMI1, APIC until a LAPIC model exists) are not executed either.
/// </summary>
public sealed unsafe partial class Processor
{
    private const uint MaxBasicLeaf = 7;
    private const uint MaxExtendedLeaf = 0x80000008;

    public CpuVendor Vendor { get; set; } = CpuVendor.Intel;

    /// <summary>Extra feature bits a virtualization unit announces: CPUID.01H:ECX.VMX (bit 5) or CPUID.80000001H:ECX.SVM (bit 2).</summary>
    public uint ExtraFeatureEcx { get; set; }

    public uint ExtraExtendedFeatureEcx { get; set; }

    /// <summary>Further leaves a virtualization unit answers (8000_000Ah for SVM); null when the unit has none.</summary>
    public Func<uint, uint, (uint Eax, uint Ebx, uint Ecx, uint Edx)?>? CpuidExtension { get; set; }

    /// <summary>The brand string padded to its 48 bytes once, so that CPUID does not allocate.</summary>
    private static readonly string Brand = "sim x86-64 interpreter".PadRight(48, '\0');

    private static uint Chars(string s, int offset) =>
        (uint)(s[offset] | (s[offset + 1] << 8) | (s[offset + 2] << 16) | (s[offset + 3] << 24));

    public void Cpuid(uint leaf, uint subleaf, out uint eax, out uint ebx, out uint ecx, out uint edx)
    {
        eax = ebx = ecx = edx = 0;
        var extension = CpuidExtension?.Invoke(leaf, subleaf);
        if (extension.HasValue)
        {
            (eax, ebx, ecx, edx) = extension.Value;
            return;
        }
        if (leaf > MaxBasicLeaf && leaf < 0x80000000) leaf = MaxBasicLeaf;
        if (leaf > MaxExtendedLeaf) leaf = MaxBasicLeaf;
        var vendor = Vendor == CpuVendor.Intel ? "GenuineIntel" : "AuthenticAMD";
        switch (leaf)
        {
            case 0:
                eax = MaxBasicLeaf;
                ebx = Chars(vendor, 0);
                edx = Chars(vendor, 4);
                ecx = Chars(vendor, 8);
                break;
            case 1:
                // Intel: family 6, model 3Ah, stepping 9 (Ivy Bridge class). AMD: family 19h (base 0Fh +
                // extended 0Ah), model 01h, stepping 1 (Zen 3 class, which has every feature announced here).
                eax = Vendor == CpuVendor.Intel ? 0x000306A9u : 0x00A00F11u;
                ebx = (uint)(Index << 24) | (1 << 16) | (8 << 8);
                ecx = (1u << 3) | (1u << 13) | (1u << 17) | (1u << 22) | (1u << 23) | ExtraFeatureEcx;
                edx = (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 11) | (1u << 12)
                    | (1u << 13) | (1u << 15) | (1u << 16) | (1u << 17) | (1u << 19);
                // With a local APIC: APIC on chip (EDX.9, present only while IA32_APIC_BASE.EN is set), x2APIC (ECX.21) and TSC-deadline (ECX.24).
                if (_localApic != null)
                {
                    ecx |= (1u << 21) | (1u << 24);
                    if ((ApicBase & ApicBaseEnable) != 0) edx |= 1u << 9;
                }
                break;
            case 5:
                // MONITOR/MWAIT: 64-byte monitor line; extensions enumerated, interrupts as break events, no C-substates.
                eax = 64;
                ebx = 64;
                ecx = 3;
                break;
            case 7:
                if (subleaf == 0)
                {
                    ebx = (1u << 0) | (1u << 7) | (1u << 10) | (1u << 20);
                    ecx = 1u << 2;
                }
                break;
            case 0x80000000:
                eax = MaxExtendedLeaf;
                if (Vendor == CpuVendor.Amd)
                {
                    ebx = Chars(vendor, 0);
                    edx = Chars(vendor, 4);
                    ecx = Chars(vendor, 8);
                }
                break;
            case 0x80000001:
                ecx = (1u << 0) | (1u << 5) | ExtraExtendedFeatureEcx;
                edx = (1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29);
                break;
            case 0x80000002 or 0x80000003 or 0x80000004:
            {
                var brand = Brand;
                var offset = (int)(leaf - 0x80000002) * 16;
                eax = Chars(brand, offset);
                ebx = Chars(brand, offset + 4);
                ecx = Chars(brand, offset + 8);
                edx = Chars(brand, offset + 12);
                break;
            }
            case 0x80000008:
                eax = MaxPhysicalAddressBits | (48 << 8);
                break;
        }
    }

    /// <summary>The brand string of CPUID 8000_0002h–8000_0004h.</summary>
    public string BrandString
    {
        get
        {
            var sb = new StringBuilder();
            for (uint leaf = 0x80000002; leaf <= 0x80000004; leaf++)
            {
                Cpuid(leaf, 0, out var a, out var b, out var c, out var d);
                foreach (var v in new[] { a, b, c, d })
                    for (var i = 0; i < 4; i++) sb.Append((char)((v >> (8 * i)) & 0xFF));
            }
            return sb.ToString().TrimEnd('\0');
        }
    }
}
