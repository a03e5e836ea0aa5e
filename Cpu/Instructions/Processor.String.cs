using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>String instructions (SDM vol. 1, 5.1.8) with their REP prefixes: MOVS, CMPS, SCAS, LODS, STOS, and INS, OUTS.</summary>
public sealed unsafe partial class Processor
{
    /// <summary>Iterations of a REP string instruction run before events are looked at again; the instruction then restarts where it stopped.</summary>
    private const int RepChunk = 4096;

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
            if (Hooks != null && Intercepted(ref op, new Intercept(kind == 5 ? InterceptKind.IoIn : InterceptKind.IoOut) { Io = new(port, size, In: kind == 5, String: true) })) return _hookRetired;
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
                    if (_ioBreakpointsArmed) MatchIoBreakpoints(port, size);
                    Advance(7, step, amask);
                    break;
                }
                default:
                {
                    if (!ReadMem(op.Segment, si, size, out var v)) return false;
                    _io.Write(port, size, (uint)v);
                    if (_ioBreakpointsArmed) MatchIoBreakpoints(port, size);
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
                // Leave RIP on the instruction: it continues after pending events are handled. An event taken
                // between iterations saves RF = 1, so that the rest does not hit an instruction breakpoint (SDM vol. 3, 17.3.1.1).
                _flags |= Rflags.RF;
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
