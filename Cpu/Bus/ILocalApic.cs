namespace Sim.Cpu.Bus;

/// <summary>
/// The processor's own local APIC as the core reaches it (SDM vol. 3, ch. 11): its register page
/// at IA32_APIC_BASE, which the core claims before the bus sees the access; its MSRs in x2APIC mode
/// and IA32_TSC_DEADLINE; CR8 as the task priority; and INIT, which resets it. The local APIC is
/// also the processor's <see cref="IInterruptSource"/>.
/// </summary>
public interface ILocalApic
{
    /// <summary>A read of <paramref name="size"/> bytes at <paramref name="offset"/> into the xAPIC register page.</summary>
    ulong ReadRegister(uint offset, int size);

    void WriteRegister(uint offset, int size, ulong value);

    /// <summary>RDMSR of an x2APIC register (800h–8FFh) or IA32_TSC_DEADLINE; false raises #GP.</summary>
    bool TryReadMsr(uint index, out ulong value);

    /// <summary>WRMSR of an x2APIC register or IA32_TSC_DEADLINE; false raises #GP.</summary>
    bool TryWriteMsr(uint index, ulong value);

    /// <summary>The TPR; MOV to CR8 writes TPR[7:4] and clears TPR[3:0], MOV from CR8 reads TPR[7:4] (SDM vol. 3, 11.8.6.1).</summary>
    byte TaskPriority { get; set; }

    /// <summary>IA32_APIC_BASE was written with a value the processor accepted: the APIC follows its enable and x2APIC bits.</summary>
    void BaseChanged(ulong previous, ulong current);

    /// <summary>A performance counter overflowed with its PMI enabled: the APIC raises the interrupt its performance-monitoring LVT entry names (SDM vol. 3, 18.2.1.1, 11.5.1).</summary>
    void PerformanceCounterOverflow();

    /// <summary>INIT: the power-up state except the APIC ID and IA32_APIC_BASE (SDM vol. 3, 11.4.7.3).</summary>
    void Init();
}
