using Sim.Cpu.Memory;

namespace Sim.Vmx;

/// <summary>
/// The working copy of one VMCS while it is active on a processor. In simulated memory the region
/// holds the revision identifier (bytes 0–3), the VMX-abort indicator (4–7), then this
/// implementation's own layout: the launch state at 8 and every supported field as 8 bytes from
/// <see cref="FieldsOffset"/>, in the order of <see cref="SupportedFields"/>. VMPTRLD reads that
/// layout and VMCLEAR writes it back (SDM vol. 3, 25.2 and 25.11.1).
/// </summary>
public sealed class Vmcs
{
    public const int AbortIndicatorOffset = 4;
    public const int LaunchStateOffset = 8;
    public const int FieldsOffset = 16;

    /// <summary>The fields this processor supports: those of appendix B whose feature it offers.</summary>
    public static readonly VmcsField[] SupportedFields = BuildSupported();

    private static readonly short[] SlotOf = BuildSlots();

    private readonly ulong[] _values = new ulong[SupportedFields.Length];

    /// <summary>The physical address of the region (the VMCS pointer).</summary>
    public ulong Address { get; internal set; }

    /// <summary>Launch state: false is "clear", true is "launched".</summary>
    public bool Launched { get; internal set; }

    /// <summary>Launched before a VMXOFF and not cleared since: VMRESUME fails with error 6.</summary>
    internal bool LaunchedBeforeVmxoff { get; set; }

    private static VmcsField[] BuildSupported()
    {
        var unsupported = new HashSet<VmcsField>
        {
            VmcsField.PostedInterruptNotificationVector, VmcsField.EptpIndex, VmcsField.GuestInterruptStatus, VmcsField.PmlIndex,
            VmcsField.PmlAddress, VmcsField.ApicAccessAddress, VmcsField.PostedInterruptDescriptorAddress, VmcsField.VmFunctionControls,
            VmcsField.EoiExitBitmap0, VmcsField.EoiExitBitmap1, VmcsField.EoiExitBitmap2, VmcsField.EoiExitBitmap3,
            VmcsField.EptpListAddress, VmcsField.VmreadBitmap, VmcsField.VmwriteBitmap, VmcsField.VirtualizationExceptionInformationAddress,
            VmcsField.EnclsExitingBitmap, VmcsField.TscMultiplier, VmcsField.GuestIa32PerfGlobalCtrl,
            VmcsField.GuestIa32Bndcfgs, VmcsField.HostIa32PerfGlobalCtrl, VmcsField.PleGap, VmcsField.PleWindow,
        };
        var list = new List<VmcsField>();
        foreach (var f in Enum.GetValues<VmcsField>())
            if (!unsupported.Contains(f)) list.Add(f);
        list.Sort();
        return list.ToArray();
    }

    private static short[] BuildSlots()
    {
        var slots = new short[0x8000];
        Array.Fill(slots, (short)-1);
        for (var i = 0; i < SupportedFields.Length; i++) slots[(uint)SupportedFields[i]] = (short)i;
        return slots;
    }

    /// <summary>The width of a field from its encoding.</summary>
    public static VmcsFieldWidth WidthOf(uint encoding) => (VmcsFieldWidth)((encoding >> 13) & 3);

    /// <summary>Whether a field is read-only (type 1, the VM-exit information fields).</summary>
    public static bool IsReadOnly(uint encoding) => ((encoding >> 10) & 3) == 1;

    /// <summary>
    /// Where an encoding is stored and whether it names the high half of a 64-bit field; -1 for an
    /// unsupported component (bits 31:15 or 12 set, an unknown field, or a high access to a field that is not 64-bit).
    /// </summary>
    public static int Slot(ulong encoding, out bool high)
    {
        high = false;
        if (encoding > 0x7FFF) return -1;
        var e = (uint)encoding;
        if ((e & 1) != 0)
        {
            if (WidthOf(e) != VmcsFieldWidth.Bits64) return -1;
            high = true;
            e &= ~1u;
        }
        return SlotOf[e];
    }

    /// <summary>The highest index (bits 9:1) of any supported encoding, for IA32_VMX_VMCS_ENUM.</summary>
    public static ulong HighestIndex
    {
        get
        {
            ulong max = 0;
            foreach (var f in SupportedFields) max = Math.Max(max, ((ulong)f >> 1) & 0x1FF);
            return max;
        }
    }

    internal ulong this[VmcsField field]
    {
        get => _values[SlotOf[(uint)field]];
        set => _values[SlotOf[(uint)field]] = Truncate((uint)field, value);
    }

    internal ulong GetSlot(int slot) => _values[slot];

    internal void SetSlot(int slot, ulong value) => _values[slot] = Truncate((uint)SupportedFields[slot], value);

    private static ulong Truncate(uint encoding, ulong value) => WidthOf(encoding) switch
    {
        VmcsFieldWidth.Bits16 => value & 0xFFFF,
        VmcsFieldWidth.Bits32 => value & 0xFFFFFFFF,
        _ => value,
    };

    /// <summary>Reads the fields and launch state from the region (VMPTRLD).</summary>
    internal void LoadFrom(PhysicalMemory memory, ulong address)
    {
        Address = address;
        Launched = memory.Read(address + LaunchStateOffset, 4) == 1;
        for (var i = 0; i < _values.Length; i++)
            _values[i] = Truncate((uint)SupportedFields[i], memory.Read(address + FieldsOffset + (ulong)i * 8, 8));
    }

    /// <summary>Writes the fields and launch state into the region (VMCLEAR).</summary>
    internal void StoreTo(PhysicalMemory memory)
    {
        memory.Write(Address + LaunchStateOffset, 4, Launched ? 1UL : 0UL);
        for (var i = 0; i < _values.Length; i++) memory.Write(Address + FieldsOffset + (ulong)i * 8, 8, _values[i]);
    }
}
