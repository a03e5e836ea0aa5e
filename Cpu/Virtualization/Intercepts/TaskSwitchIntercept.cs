namespace Sim.Cpu.Virtualization;

/// <summary>
/// A task switch to the TSS <paramref name="Selector"/>, by CALL, JMP, IRET or a task gate; the
/// instruction's length (0 through a task gate in the IDT) and the error code the switch would push
/// in the new task, if any (an exception through a task gate).
/// </summary>
public readonly record struct TaskSwitchIntercept(ushort Selector, TaskSwitchSource Source, int InstructionLength, uint? ErrorCode);
