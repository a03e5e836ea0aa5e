namespace Sim.Differential.Tests;

/// <summary>The processor mode a guest runs its cases in.</summary>
public enum GuestMode
{
    /// <summary>Flat 32-bit protected mode.</summary>
    Protected32,

    /// <summary>Protected mode with a 16-bit code segment (D=0).</summary>
    Protected16,

    /// <summary>Real mode, entered by leaving protected mode through a 16-bit segment.</summary>
    Real16,

    /// <summary>64-bit long mode with identity-mapped paging.</summary>
    Long64,

    /// <summary>IA-32e compatibility mode: long mode as <see cref="Long64"/>, cases in a 32-bit code segment (L=0, D=1), exceptions through the 64-bit IDT.</summary>
    Compat32,
}

public static class GuestModeExtensions
{
    public static int Bitness(this GuestMode mode) => mode switch
    {
        GuestMode.Long64 => 64,
        GuestMode.Protected32 or GuestMode.Compat32 => 32,
        _ => 16,
    };

    /// <summary>Width of one slot of the state record the guest writes, in bytes.</summary>
    public static int SlotBytes(this GuestMode mode) => mode == GuestMode.Long64 ? 8 : 4;

    public static int RegisterCount(this GuestMode mode) => mode == GuestMode.Long64 ? 16 : 8;

    /// <summary>EFER.LMA is set: paging, 16-byte IDT gates and 64-bit handlers.</summary>
    public static bool IsLongMode(this GuestMode mode) => mode is GuestMode.Long64 or GuestMode.Compat32;

    /// <summary>16-bit modes reach their data through a segment based at <see cref="DataLayout.DataBase"/>, so addresses are offsets.</summary>
    public static bool UsesDataSegment(this GuestMode mode) => mode.Bitness() == 16;
}
