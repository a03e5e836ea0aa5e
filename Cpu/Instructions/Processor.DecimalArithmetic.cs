using System.Numerics;
using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>Decimal arithmetic instructions (SDM vol. 1, 5.1.3): DAA, DAS, AAA, AAS, AAM, AAD.</summary>
public sealed unsafe partial class Processor
{
    /// <summary>DAA, DAS, AAA, AAS, AAM, AAD as the SDM's pseudocode gives them; #UD in 64-bit mode.</summary>
    private bool Bcd(ref DecodedOp op)
    {
        if (_bitness == 64) return RaiseFault(ExceptionVector.UD, 0);
        var al = (byte)_r[0];
        var cf = GetCF();
        MaterializeFlags();
        var af = (_flags & Rflags.AF) != 0;
        ulong f = _flags & ~Rflags.Status;
        switch (op.Sub)
        {
            case 0:
            case 1:
            {
                var oldAl = al;
                var oldCf = cf;
                var newCf = false;
                var newAf = false;
                var das = op.Sub == 1;
                if ((al & 0xF) > 9 || af)
                {
                    newCf = oldCf || (das ? al < 6 : al > 0xF9);
                    al = (byte)(das ? al - 6 : al + 6);
                    newAf = true;
                }
                if (oldAl > 0x99 || oldCf)
                {
                    al = (byte)(das ? al - 0x60 : al + 0x60);
                    newCf = true;
                }
                SetReg(0, 1, al);
                // OF is undefined; computed as the sign change of an add/sub of the adjustment.
                var of = das ? ((oldAl ^ al) & oldAl & 0x80) != 0 : ((oldAl ^ al) & al & 0x80) != 0;
                _flags = f | (newCf ? Rflags.CF : 0) | (newAf ? Rflags.AF : 0) | Parity(al) | (al == 0 ? Rflags.ZF : 0) | ((al & 0x80) != 0 ? Rflags.SF : 0) | (of ? Rflags.OF : 0);
                return Next(ref op);
            }
            case 2:
            case 3:
            {
                // AAA: AX = AX + 106h; AAS: AX = AX - 6, AH = AH - 1 (SDM vol. 2); then AL keeps its low nibble.
                var ax = (ushort)_r[0];
                var adjust = (al & 0xF) > 9 || af;
                if (adjust) ax = op.Sub == 2 ? (ushort)(ax + 0x106) : (ushort)((((ax - 6) & 0xFFFF) - 0x100) & 0xFFFF);
                al = (byte)(ax & 0xF);
                SetReg(0, 2, (ulong)((ax & 0xFF00) | al));
                _flags = f | (adjust ? Rflags.CF | Rflags.AF : 0) | Parity(al) | (al == 0 ? Rflags.ZF : 0);
                return Next(ref op);
            }
            case 4:
            {
                var imm = (byte)op.Immediate;
                if (imm == 0) return RaiseFault(ExceptionVector.DE, 0);
                var ah = (byte)(al / imm);
                var nal = (byte)(al % imm);
                SetReg(0, 2, (ulong)((ah << 8) | nal));
                _flags = f | Parity(nal) | (nal == 0 ? Rflags.ZF : 0) | ((nal & 0x80) != 0 ? Rflags.SF : 0);
                return Next(ref op);
            }
            default:
            {
                var imm = (byte)op.Immediate;
                var ah = (byte)(_r[0] >> 8);
                var nal = (byte)(al + ah * imm);
                SetReg(0, 2, nal);
                _flags = f | Parity(nal) | (nal == 0 ? Rflags.ZF : 0) | ((nal & 0x80) != 0 ? Rflags.SF : 0);
                return Next(ref op);
            }
        }
    }
}
