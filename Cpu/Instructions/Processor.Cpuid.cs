using System.Text;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>
/// CPUID: one coherent feature set that matches what the interpreter implements. Basic leaves
/// 0, 1, 5, 7, 0Bh (x2APIC topology) and 0Dh (the XSAVE feature set), on Intel also 15h and 16h (the TSC frequency), with the
/// leaves between answering zeros as for a processor without their features; extended leaves
/// 8000_0000h–8000_0008h; a leaf above the maximum returns the highest basic leaf, as Intel
/// processors do. Features not announced are not executed either.
/// </summary>
public sealed unsafe partial class Processor
{
    private const uint IntelMaxBasicLeaf = 0x16;
    /// <summary>Leaf 0Dh, the XSAVE feature set, as AMD's Zen 3 processors have it.</summary>
    private const uint AmdMaxBasicLeaf = 0xD;
    private const uint MaxExtendedLeaf = 0x80000008;

    /// <summary>The reference (bus) clock of CPUID 16h and MSR_PLATFORM_INFO's ratio: 100 MHz, as on Intel processors since Nehalem.</summary>
    public const ulong BusFrequencyHz = 100_000_000;

    /// <summary>
    /// TSC ticks per second: the TSC counts one per cycle of the machine's clock, and CPUID 15h/16h and
    /// MSR_PLATFORM_INFO announce this rate. The machine sets it from its configuration.
    /// </summary>
    public ulong TscFrequencyHz { get; set; } = 1_000_000_000;
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
        var maxBasicLeaf = Vendor == CpuVendor.Intel ? IntelMaxBasicLeaf : AmdMaxBasicLeaf;
        if (leaf > maxBasicLeaf && leaf < 0x80000000) leaf = maxBasicLeaf;
        if (leaf > MaxExtendedLeaf) leaf = maxBasicLeaf;
        var vendor = Vendor == CpuVendor.Intel ? "GenuineIntel" : "AuthenticAMD";
        switch (leaf)
        {
            case 0:
                eax = maxBasicLeaf;
                ebx = Chars(vendor, 0);
                edx = Chars(vendor, 4);
                ecx = Chars(vendor, 8);
                break;
            case 1:
                // Intel: family 6, model 3Ah, stepping 9 (Ivy Bridge class). AMD: family 19h (base 0Fh +
                // extended 0Ah), model 01h, stepping 1 (Zen 3 class, which has every feature announced here).
                eax = Vendor == CpuVendor.Intel ? 0x000306A9u : 0x00A00F11u;
                ebx = (uint)(Index << 24) | (1 << 16) | (8 << 8);
                ecx = 1u | (1u << 1) | (1u << 3) | (1u << 9) | (1u << 12) | (1u << 13) | (1u << 17) | (1u << 19) | (1u << 20) | (1u << 22) | (1u << 23) | (1u << 25) | (1u << 26) | (1u << 28) | (1u << 29) | (1u << 30) | ExtraFeatureEcx;
                // AVX (ECX.28): the VEX forms of SSE–SSE3 and AVX's own instructions. OSXSAVE (ECX.27) mirrors CR4.OSXSAVE.
                if ((Cr4 & Registers.Cr4.OSXSAVE) != 0) ecx |= 1u << 27;
                edx = 1u | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 11) | (1u << 12)
                    | (1u << 13) | (1u << 15) | (1u << 16) | (1u << 17) | (1u << 19)
                    | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26);
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
                    // FSGSBASE, BMI1, AVX2, SMEP, BMI2, INVPCID, RDSEED, ADX, SMAP; on Intel also IA32_TSC_ADJUST (bit 1), which AMD's processors lack.
                    ebx = (1u << 0) | (1u << 3) | (1u << 5) | (1u << 7) | (1u << 8) | (InvpcidEnumerated ? 1u << 10 : 0) | (1u << 18) | (1u << 19) | (1u << 20)
                        | (Vendor == CpuVendor.Intel ? 1u << 1 : 0);
                    ecx = 1u << 2;
                }
                break;
            case 0xA when Vendor == CpuVendor.Intel:
                eax = ArchitecturalPerformanceMonitoringLeaf;
                ebx = UnavailableArchitecturalEvents;
                edx = FixedCounterLeaf;
                break;
            case 0xB:
                ExtendedTopology(subleaf, out eax, out ebx, out ecx, out edx);
                break;
            case 0xD:
                XsaveFeatures(subleaf, out eax, out ebx, out ecx, out edx);
                break;
            case 0x15:
                TscCrystalRatio(out eax, out ebx, out ecx);
                break;
            case 0x16:
                // Base and maximum frequency (no turbo) and the bus clock, in MHz (bits 15:0).
                eax = ebx = (uint)Math.Min(TscFrequencyHz / 1_000_000, 0xFFFF);
                ecx = (uint)(BusFrequencyHz / 1_000_000);
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
                // LAHF/SAHF in 64-bit mode, LZCNT (Intel's name; AMD's ABM).
                ecx = (1u << 0) | (1u << 5) | ExtraExtendedFeatureEcx;
                edx = (1u << 11) | (1u << 20) | (OneGigabytePages ? 1u << 26 : 0) | (1u << 27) | (1u << 29);
                if (Vendor == CpuVendor.Amd)
                {
                    // AMD repeats leaf 1's EDX bits 0–9, 12–17, 23 and 24 here (APM vol. 3, CPUID Fn8000_0001_EDX),
                    // and MmxExt (bit 22): the AMD MMX extensions are SSE's integer instructions on MMX registers.
                    Cpuid(1, 0, out _, out _, out _, out var basic);
                    edx |= (basic & 0x0183F3FFu) | (1u << 22);
                }
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

    /// <summary>
    /// CPUID 0Bh: one logical processor per core and one core per package, as leaf 1 says (no HTT, one
    /// addressable ID): level 0 is SMT, level 1 is core, both with a shift of 0 and one processor; EDX
    /// is the x2APIC ID, the same as CPUID.01H:EBX[31:24].
    /// </summary>
    private void ExtendedTopology(uint subleaf, out uint eax, out uint ebx, out uint ecx, out uint edx)
    {
        const uint smt = 1, core = 2;
        eax = 0;
        ebx = subleaf <= 1 ? 1u : 0;
        ecx = (subleaf & 0xFF) | (subleaf switch { 0 => smt, 1 => core, _ => 0u }) << 8;
        edx = (uint)Index;
    }

    /// <summary>CPUID.(EAX=0DH,ECX=1):EAX: XSAVEOPT (bit 0), XSAVEC and the compacted XRSTOR (1), XGETBV with ECX = 1 (2), XSAVES/XRSTORS and IA32_XSS (3).</summary>
    public const uint XsaveExtensions = 0xF;

    /// <summary>
    /// CPUID 0Dh (SDM vol. 1, 13.2): sub-leaf 0 gives the XCR0 bits supported (x87, SSE, AVX), the XSAVE area size for
    /// the current XCR0 and the largest for all of them; sub-leaf 1 the extensions of <see cref="XsaveExtensions"/>, the
    /// compacted area size for XCR0 | IA32_XSS and the IA32_XSS bits supported (none); sub-leaf 2 the AVX component's
    /// size (256) and standard-format offset (576), user state, no 64-byte alignment in the compacted format. Other
    /// sub-leaves name no supported component and are zero.
    /// </summary>
    private void XsaveFeatures(uint subleaf, out uint eax, out uint ebx, out uint ecx, out uint edx)
    {
        eax = ebx = ecx = edx = 0;
        switch (subleaf)
        {
            case 0:
                eax = (uint)SupportedXcr0;
                edx = (uint)(SupportedXcr0 >> 32);
                ebx = XsaveAreaBytes(Xcr0);
                ecx = XsaveAreaBytes(SupportedXcr0);
                break;
            case 1:
                eax = XsaveExtensions;
                ebx = XsaveAreaBytes(Xcr0 | Xss);
                ecx = (uint)SupportedXss;
                edx = (uint)(SupportedXss >> 32);
                break;
            case 2:
                eax = AvxStateBytes;
                ebx = XsaveExtendedOffset;
                break;
        }
    }

    /// <summary>
    /// CPUID 15h: TSC frequency = ECX (the core crystal clock) × EBX / EAX. The crystal is the local
    /// APIC timer's input, which ticks once per cycle like the TSC, so the ratio is 1/1 and kernels that
    /// take the APIC timer's rate from ECX (Linux) get it exactly. A rate beyond 32 bits is halved into
    /// ECX while it stays exact; otherwise ECX is 0, "not enumerated".
    /// </summary>
    private void TscCrystalRatio(out uint eax, out uint ebx, out uint ecx)
    {
        var crystal = TscFrequencyHz;
        uint numerator = 1;
        while (crystal > uint.MaxValue && (crystal & 1) == 0)
        {
            crystal >>= 1;
            numerator <<= 1;
        }
        eax = 1;
        ebx = numerator;
        ecx = crystal <= uint.MaxValue ? (uint)crystal : 0;
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

    private bool ExecuteCpuid(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.Cpuid) { Cpuid = new((uint)_r[0], (uint)_r[1]) })) return _hookRetired;
        Cpuid((uint)_r[0], (uint)_r[1], out var a, out var b, out var c, out var d);
        _r[0] = a;
        _r[3] = b;
        _r[1] = c;
        _r[2] = d;
        return Next(ref op);
    }
}
