using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Differential.Tests;

/// <summary>Runs a guest on sim's interpreter, started the way a Multiboot loader leaves the machine.</summary>
public static class SimRunner
{
    public static GuestOutput Run(Guest guest, ulong cycleLimit)
    {
        using var memory = new PhysicalMemory(64 << 20);
        var bus = new DebugPortBus();
        using var cpu = new Processor(memory, bus);
        bus.Cpu = cpu;
        memory.WriteBytes(DataLayout.LoadAddress, guest.Image);
        cpu.LoadControlState(Cr0.PE | Cr0.ET, 0, 0, 0);
        cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x10, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            cpu.SetSegment(s, new SegmentRegister { Selector = 0x18, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        cpu.Rax = 0x2BADB002;
        cpu.Rbx = 0x9500;
        cpu.Rip = guest.EntryPoint;
        StopReason reason;
        try
        {
            reason = cpu.Run(cpu.Cycles + cycleLimit);
        }
        catch (Exception e)
        {
            // A host exception is a sim bug; report it with what the guest had written so far.
            return new GuestOutput(bus.Bytes.ToArray(), false, $"sim threw {e.GetType().Name}: {e.Message} at RIP {cpu.Rip:x}\n{e.StackTrace}");
        }
        var exited = reason == StopReason.StopRequested && bus.ExitValue == 0;
        return new GuestOutput(bus.Bytes.ToArray(), exited, $"sim stopped: {reason}, exit value {bus.ExitValue?.ToString() ?? "none"}, RIP {cpu.Rip:x}");
    }
}
