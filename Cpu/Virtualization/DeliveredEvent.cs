namespace Sim.Cpu.Virtualization;

/// <summary>An event the processor was delivering through the IDT (for IDT-vectoring information and EXITINTINFO).</summary>
public readonly record struct DeliveredEvent(int Vector, EventType Type, uint ErrorCode, bool HasErrorCode, int InstructionLength);
