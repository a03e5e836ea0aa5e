namespace Sim.Cpu;

/// <summary>
/// The core's side of its local APIC: while the APIC is globally enabled in xAPIC mode, physical
/// accesses to the 4 KiB page at IA32_APIC_BASE go to this processor's APIC, not to the bus, so each
/// processor reaches its own (SDM vol. 3, 11.4.1); that page is never entered in the software TLB.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>The physical page of the xAPIC registers while they decode, else a value no page address has.</summary>
    private ulong _apicPage = ulong.MaxValue;

    private void UpdateApicPage()
    {
        var page = _localApic != null && (ApicBase & (ApicBaseEnable | ApicBaseX2Apic)) == ApicBaseEnable
            ? ApicBase & ~0xFFFUL & ((1UL << MaxPhysicalAddressBits) - 1)
            : ulong.MaxValue;
        if (page == _apicPage) return;
        _apicPage = page;
        FlushTranslations();
    }

    private bool IsApicPage(ulong physical) => (physical & ~0xFFFUL) == _apicPage;

    private ulong ReadPhysical(ulong physical, int size) =>
        IsApicPage(physical) ? _localApic!.ReadRegister((uint)(physical & 0xFFF), size) : _memory.Read(physical, size);

    private void WritePhysical(ulong physical, int size, ulong value)
    {
        if (IsApicPage(physical)) _localApic!.WriteRegister((uint)(physical & 0xFFF), size, value);
        else _memory.Write(physical, size, value);
    }
}
