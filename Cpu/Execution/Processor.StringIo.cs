using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    /// <summary>Iterations of a REP string instruction run before events are looked at again; the instruction then restarts where it stopped.</summary>
    private const int RepChunk = 4096;

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
        if (Hooks != null && Intercepted(ref op, InterceptKind.IoIn, port, (ulong)op.Size)) return _hookRetired;
        SyncClock(ref op);
        SetReg(0, op.Size, _io.Read(port, op.Size));
        return Next(ref op);
    }

    private bool PortOut(ref DecodedOp op, ushort port)
    {
        if (!CheckIoPermission(port, op.Size)) return false;
        if (Hooks != null && Intercepted(ref op, InterceptKind.IoOut, port, (ulong)op.Size)) return _hookRetired;
        var value = (uint)GetReg(0, op.Size);
        SyncClock(ref op);
        Next(ref op);
        _io.Write(port, op.Size, value);
        return true;
    }

    /// <summary>MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with and without REP/REPE/REPNE.</summary>
    private bool StringOperation(ref DecodedOp op)
    {
        var kind = op.Sub;
        var size = op.Size;
        var amask = ulong.MaxValue >> op.AddressShift;
        var rep = (op.Flags & (OpFlags.Rep | OpFlags.Repne)) != 0;
        var step = (_flags & Rflags.DF) != 0 ? (ulong)(-size) : (ulong)size;
        var port = (ushort)_r[2];
        if (kind is 5 or 6)
        {
            if (!CheckIoPermission(port, size)) return false;
            if (Hooks != null && Intercepted(ref op, kind == 5 ? InterceptKind.IoIn : InterceptKind.IoOut, port, (ulong)size | 0x100)) return _hookRetired;
        }
        var iterations = 0;
        if (kind is 5 or 6) SyncClock(ref op);
        while (true)
        {
            if (rep && (_r[1] & amask) == 0) return Next(ref op);
            var si = _r[6] & amask;
            var di = _r[7] & amask;
            switch (kind)
            {
                case 0:
                {
                    if (!ReadMem(op.Segment, si, size, out var v)) return false;
                    if (!WriteMem((int)SegmentIndex.ES, di, size, v)) return false;
                    Advance(6, step, amask);
                    Advance(7, step, amask);
                    break;
                }
                case 1:
                {
                    if (!ReadMem(op.Segment, si, size, out var a)) return false;
                    if (!ReadMem((int)SegmentIndex.ES, di, size, out var b)) return false;
                    Alu(7, size, a, b);
                    Advance(6, step, amask);
                    Advance(7, step, amask);
                    break;
                }
                case 2:
                    if (!WriteMem((int)SegmentIndex.ES, di, size, _r[0])) return false;
                    Advance(7, step, amask);
                    break;
                case 3:
                {
                    if (!ReadMem(op.Segment, si, size, out var v)) return false;
                    SetReg(0, size, v);
                    Advance(6, step, amask);
                    break;
                }
                case 4:
                {
                    if (!ReadMem((int)SegmentIndex.ES, di, size, out var b)) return false;
                    Alu(7, size, GetReg(0, size), b);
                    Advance(7, step, amask);
                    break;
                }
                case 5:
                {
                    // The destination is checked before the port is read, so that a fault does not lose input.
                    if (!ToLinear((int)SegmentIndex.ES, di, size, AccessWrite, out var linear) || !ProbeWrite(linear, size)) return false;
                    var v = _io.Read(port, size);
                    if (!WriteLinear(linear, size, v)) return false;
                    Advance(7, step, amask);
                    break;
                }
                default:
                {
                    if (!ReadMem(op.Segment, si, size, out var v)) return false;
                    _io.Write(port, size, (uint)v);
                    Advance(6, step, amask);
                    break;
                }
            }
            if (!rep) return Next(ref op);
            var count = (_r[1] - 1) & amask;
            SetAddressRegister(1, count, amask);
            if (kind is 1 or 4)
            {
                var zf = GetZF();
                if ((op.Flags & OpFlags.Repne) != 0 ? zf : !zf) return Next(ref op);
            }
            if (count == 0) return Next(ref op);
            // A unit watching instruction boundaries sees each iteration's (the monitor trap flag's per-iteration exits).
            if (++iterations >= RepChunk || kind is 5 or 6 || _stopBlock || _watchEventWindows)
            {
                // Leave RIP on the instruction: it continues after pending events are handled.
                _stopBlock = true;
                return true;
            }
        }
    }

    private void Advance(int reg, ulong step, ulong amask) => SetAddressRegister(reg, _r[reg] + step, amask);

    /// <summary>Writes rCX/rSI/rDI at the address size: a 32-bit write zero-extends (as every 32-bit register write does), a 16-bit one merges.</summary>
    private void SetAddressRegister(int reg, ulong value, ulong amask) =>
        _r[reg] = amask == 0xFFFFUL ? (_r[reg] & ~0xFFFFUL) | (value & 0xFFFF) : value & amask;
}
