namespace Sim.Platform.Apic;

/// <summary>An interrupt message's delivery mode, with the encoding of the ICR, the LVT and the I/O APIC redirection entries (SDM vol. 3, 11.6.1).</summary>
public enum DeliveryMode : byte
{
    Fixed = 0,
    LowestPriority = 1,
    Smi = 2,
    Nmi = 4,
    Init = 5,
    StartUp = 6,
    ExtInt = 7,
}
