using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>The debug registers (SDM vol. 3, 17.2): MOV to and from DR0–DR7.</summary>
public sealed unsafe partial class Processor
{
    /// <summary>
    /// The fault MOV DR raises before it touches a debug register, or -1: CPL 0 only (#GP); DR4/DR5
    /// alias DR6/DR7 unless CR4.DE is set, when they raise #UD (SDM vol. 2, MOV—Move to/from Debug
    /// Registers). <paramref name="n"/> is the register accessed after aliasing.
    /// </summary>
    private int DebugRegisterFault(ref DecodedOp op, out int n)
    {
        n = op.Sub;
        if (Cpl != 0) return ExceptionVector.GP;
        if (n is 4 or 5)
        {
            if ((Cr4 & Registers.Cr4.DE) != 0) return ExceptionVector.UD;
            n += 2;
        }
        return -1;
    }

    /// <summary>
    /// Offers MOV DR to the unit before its privilege and CR4.DE faults: a VMX MOV-DR exit takes
    /// priority over them (SDM vol. 3, 26.1.3), and the unit declines when it checks them first.
    /// </summary>
    private bool DebugRegisterAccessIntercepted(ref DecodedOp op, bool write, int fault, int gpr)
    {
        return Intercepted(ref op, new Intercept(InterceptKind.DrAccess) { DebugRegisterAccess = new(op.Sub, gpr, write, fault >= 0) });
    }

    private bool MoveFromDebugRegister(ref DecodedOp op)
    {
        if (op.Sub > 7) return RaiseFault(ExceptionVector.UD, 0);
        var fault = DebugRegisterFault(ref op, out var n);
        if (Hooks != null && DebugRegisterAccessIntercepted(ref op, write: false, fault, op.R)) return _hookRetired;
        if (fault >= 0) return RaiseFault(fault, 0);
        if ((_dr[7] & DebugControl.GD) != 0) return GeneralDetect();
        _r[op.R] = _bitness == 64 ? _dr[n] : (uint)_dr[n];
        return Next(ref op);
    }

    private bool MoveToDebugRegister(ref DecodedOp op)
    {
        if (op.Sub > 7) return RaiseFault(ExceptionVector.UD, 0);
        var fault = DebugRegisterFault(ref op, out var n);
        if (Hooks != null && DebugRegisterAccessIntercepted(ref op, write: true, fault, op.Rm)) return _hookRetired;
        if (fault >= 0) return RaiseFault(fault, 0);
        if ((_dr[7] & DebugControl.GD) != 0) return GeneralDetect();
        var value = _bitness == 64 ? _r[op.Rm] : (uint)_r[op.Rm];
        if (n is 6 or 7 && (value >> 32) != 0) return RaiseFault(ExceptionVector.GP, 0);
        _dr[n] = n switch
        {
            6 => (value & DebugStatus.Writable) | DebugStatus.ReadAsOne,
            7 => (value & DebugControl.Writable) | DebugControl.ReadAsOne,
            _ => value,
        };
        if (n != 6) BreakpointsChanged();
        return Next(ref op);
    }

    /// <summary>
    /// General detect: with DR7.GD set, MOV DR raises a #DB fault before it executes, with DR6.BD set;
    /// delivery clears GD so that the handler can use the debug registers (SDM vol. 3, 17.2.4, 17.3.1.2).
    /// </summary>
    private bool GeneralDetect()
    {
        _pendingDebugStatus = DebugStatus.BD;
        return RaiseFault(ExceptionVector.DB, 0);
    }
}
