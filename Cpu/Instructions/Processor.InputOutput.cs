using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>I/O instructions (SDM vol. 1, 5.1.9): IN, OUT, and the I/O permission check INS and OUTS share (SDM vol. 1, 19.5).</summary>
public sealed unsafe partial class Processor
{
    /// <summary>
    /// Whether the current privilege may access ports [port, port + size): CPL ≤ IOPL outside
    /// virtual-8086 mode, otherwise every bit of the TSS I/O permission bitmap must be clear (SDM vol. 1, 19.5).
    /// </summary>
    private bool CheckIoPermission(ushort port, int size)
    {
        if (!InProtectedMode || (!InVirtual8086Mode && Cpl <= Iopl)) return true;
        if (Tr.Unusable || (Tr.Type & 0xD) != 0x9 || Tr.Limit < 0x67) return RaiseFault(ExceptionVector.GP, 0);
        if (!ReadSystem(Tr.Base + 0x66, 2, out var mapBase)) return false;
        var byteOffset = mapBase + (ulong)(port >> 3);
        if (byteOffset + 1 > Tr.Limit) return RaiseFault(ExceptionVector.GP, 0);
        if (!ReadSystem(Tr.Base + byteOffset, 2, out var bits)) return false;
        var mask = ((1UL << size) - 1) << (port & 7);
        return (bits & mask) == 0 || RaiseFault(ExceptionVector.GP, 0);
    }

    private bool PortIn(ref DecodedOp op, ushort port)
    {
        if (!CheckIoPermission(port, op.Size)) return false;
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.IoIn) { Io = new(port, op.Size, In: true, String: false) })) return _hookRetired;
        SyncClock(ref op);
        SetReg(0, op.Size, _io.Read(port, op.Size));
        if (_ioBreakpointsArmed) MatchIoBreakpoints(port, op.Size);
        return Next(ref op);
    }

    private bool PortOut(ref DecodedOp op, ushort port)
    {
        if (!CheckIoPermission(port, op.Size)) return false;
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.IoOut) { Io = new(port, op.Size, In: false, String: false) })) return _hookRetired;
        var value = (uint)GetReg(0, op.Size);
        SyncClock(ref op);
        Next(ref op);
        _io.Write(port, op.Size, value);
        if (_ioBreakpointsArmed) MatchIoBreakpoints(port, op.Size);
        return true;
    }
}
