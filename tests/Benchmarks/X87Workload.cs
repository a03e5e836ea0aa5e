using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Benchmarks;

/// <summary>
/// An x87-bound guest in flat 32-bit protected mode: a loop of FLD, FADD, FMUL, FST and FSTP over an array of doubles
/// (a running polynomial), the unit of the x87 MIPS measurement.
/// </summary>
public static class X87Workload
{
    private const ulong Data = 0x20000;

    public static GuestLoop Create() =>
        new("x87 workload", 32, Assemble(), 4 << 20, initialise: memory =>
        {
            for (var i = 0; i < 300; i++) memory.Write(Data + (ulong)i * 8, 8, (ulong)BitConverter.DoubleToInt64Bits(1.0 + i / 512.0));
        });

    private static byte[] Assemble()
    {
        var a = new Assembler(32);
        var outer = a.CreateLabel();
        var loop = a.CreateLabel();
        a.fninit();
        a.Label(ref outer);
        a.mov(esi, (uint)Data);
        a.mov(ecx, 256);
        a.fldz();
        a.Label(ref loop);
        a.fld(__qword_ptr[esi]);
        a.fadd(__qword_ptr[esi + 8]);
        a.fmul(st0, st1);
        a.fst(__qword_ptr[esi + 16]);
        a.faddp(st1, st0);
        a.fld1();
        a.fdivp(st1, st0);
        a.fxch(st0, st0);
        a.add(esi, 8);
        a.dec(ecx);
        a.jnz(loop);
        a.fstp(__qword_ptr[Data + 4096]);
        a.jmp(outer);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), GuestLoop.Code);
        return stream.ToArray();
    }
}
