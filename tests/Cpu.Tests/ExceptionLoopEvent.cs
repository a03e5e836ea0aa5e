namespace Sim.Cpu.Tests;

/// <summary>What an <see cref="ExceptionLoopGuest"/> takes every turn of its loop.</summary>
public enum ExceptionLoopEvent { UndefinedOpcode, SoftwareInterrupt, PageFault, GeneralProtection, ExternalInterrupt }
