namespace Sim.Cpu;

/// <summary>How an event reaches the IDT; it decides the saved RIP, the gate-DPL check and the error code.</summary>
internal enum EventKind : byte
{
    /// <summary>A fault or trap raised by an instruction; a fault saves the RIP of the instruction.</summary>
    Exception,

    /// <summary>INT n, INT3, INTO: the gate DPL is checked against CPL and the next RIP is saved.</summary>
    Software,

    /// <summary>INT1 (ICEBP): a privileged software exception without the DPL check.</summary>
    PrivilegedSoftware,

    External,
    Nmi,
}
