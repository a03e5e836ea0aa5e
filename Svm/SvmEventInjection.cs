using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Svm;

/// <summary>
/// The EVENTINJ and EXITINTINFO format (AMD APM vol. 2, 15.20, figure 15-4): VECTOR (7:0), TYPE
/// (10:8: 0 INTR, 2 NMI, 3 exception, 4 software interrupt), EV (11, error code valid), V (31),
/// ERRORCODE (63:32).
/// </summary>
public static class SvmEventInjection
{
    public const int TypeIntr = 0;
    public const int TypeNmi = 2;
    public const int TypeException = 3;
    public const int TypeSoftwareInterrupt = 4;

    public const ulong ErrorCodeValid = 1UL << 11;
    public const ulong Valid = 1UL << 31;

    public static ulong Encode(int vector, int type, uint errorCode, bool hasErrorCode) =>
        Valid | (byte)vector | ((ulong)(type & 7) << 8) | (hasErrorCode ? ErrorCodeValid | ((ulong)errorCode << 32) : 0);

    public static int Vector(ulong value) => (int)(value & 0xFF);

    public static int Type(ulong value) => (int)((value >> 8) & 7);

    /// <summary>
    /// Whether VMRUN accepts the event (15.20): TYPE 1 and 5–7 are reserved, an exception cannot
    /// have vector 2 (NMI) or a vector above 31.
    /// </summary>
    public static bool IsLegal(ulong value)
    {
        var type = Type(value);
        if (type is not (TypeIntr or TypeNmi or TypeException or TypeSoftwareInterrupt)) return false;
        if (type == TypeException && (Vector(value) == ExceptionVector.NMI || Vector(value) > 31)) return false;
        return true;
    }

    /// <summary>The EXITINTINFO of an event whose delivery a #VMEXIT interrupted (15.7.2).</summary>
    public static ulong FromDelivered(in DeliveredEvent e)
    {
        var type = e.Type switch
        {
            EventType.ExternalInterrupt => TypeIntr,
            EventType.Nmi => TypeNmi,
            EventType.SoftwareInterrupt => TypeSoftwareInterrupt,
            _ => TypeException,
        };
        return Encode(e.Vector, type, e.ErrorCode, e.HasErrorCode);
    }
}
