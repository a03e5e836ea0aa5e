using Iced.Intel;
using Sim.Cpu.Tests.X87;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>
/// Every encoding of BMI1, BMI2, ADX, TZCNT and LZCNT in 64-bit mode, over random registers, memory operands, values
/// and status flags, run on the host processor (an x86-64 with BMI1, BMI2, ADX and LZCNT, through the x87 oracle's
/// "sequence" mode, which calls machine code with RDI pointing to its data) and on the simulator; the results, the
/// memory operand and all six status flags must agree, the SDM's undefined ones included.
/// </summary>
[TestClass]
public sealed class BitManipulationHostOracleTests
{
    private const int Cases = 1500;
    private const int FlagsIn = 0x00, Inputs = 0x08, MemoryOperand = 0x60, Outputs = 0x80, FlagsOut = 0xD0, DataSize = 0xD8;
    private const ulong StatusFlags = 0x8D5;

    private static readonly Register[] Gprs = [Register.RAX, Register.RCX, Register.RDX, Register.RBX, Register.RSI, Register.R8, Register.R9, Register.R10, Register.R11];

    private static readonly HashSet<Mnemonic> Mnemonics =
    [
        Mnemonic.Andn, Mnemonic.Bextr, Mnemonic.Blsi, Mnemonic.Blsmsk, Mnemonic.Blsr, Mnemonic.Bzhi, Mnemonic.Mulx, Mnemonic.Pdep,
        Mnemonic.Pext, Mnemonic.Rorx, Mnemonic.Sarx, Mnemonic.Shlx, Mnemonic.Shrx, Mnemonic.Adcx, Mnemonic.Adox, Mnemonic.Tzcnt, Mnemonic.Lzcnt,
    ];

    private static readonly Code[] Codes = Enum.GetValues<Code>()
        .Where(c => c != Code.INVALID && Mnemonics.Contains(c.Mnemonic())
            && c.ToOpCode() is { Mode64: true, IsInstruction: true, Encoding: EncodingKind.Legacy or EncodingKind.VEX } && !c.ToString().Contains("KNC", StringComparison.Ordinal))
        .ToArray();

    [TestMethod]
    public void EveryEncodingMatchesTheHost()
    {
        Assert.AreEqual(2 * 15 + 3 * 2, Codes.Length, "W0 and W1 of the 15 BMI/ADX instructions, and TZCNT/LZCNT for 16, 32 and 64 bits");
        var rng = new Random(7);
        var cases = new List<(string Name, byte[] Code, byte[] Data)>();
        for (var i = 0; i < Cases; i++) cases.Add(NewCase(rng, Codes[i % Codes.Length]));
        var host = X87Oracle.RunSequences(cases.Select(c => (c.Code, c.Data)).ToArray());
        var failures = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            var sim = RunOnSimulator(cases[i].Code, cases[i].Data);
            Assert.IsNull(host[i].FaultRip, $"{cases[i].Name} faulted on the host");
            var expected = host[i].Data;
            BitConverter.TryWriteBytes(expected.AsSpan(FlagsOut), BitConverter.ToUInt64(expected, FlagsOut) & StatusFlags);
            if (!sim.AsSpan(0, DataSize).SequenceEqual(expected.AsSpan(0, DataSize)))
                failures.Add($"{cases[i].Name}: input {Convert.ToHexString(cases[i].Data, 0, Outputs)}\n  host {Convert.ToHexString(expected, Outputs, DataSize - Outputs)}\n  sim  {Convert.ToHexString(sim, Outputs, DataSize - Outputs)}");
        }
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures.Take(20)));
    }

    private static (string, byte[], byte[]) NewCase(Random rng, Code code)
    {
        var op = code.ToOpCode();
        var ins = new Instruction { Code = code };
        for (var i = 0; i < op.OpCount; i++)
        {
            var kind = op.GetOpKind(i);
            switch (kind)
            {
                case OpCodeOperandKind.imm8:
                    ins.SetOpKind(i, OpKind.Immediate8);
                    ins.Immediate8 = (byte)rng.Next(256);
                    break;
                case OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r64_or_mem when rng.Next(3) == 0:
                    ins.SetOpKind(i, OpKind.Memory);
                    ins.MemoryBase = Register.RDI;
                    ins.MemoryDisplacement64 = MemoryOperand;
                    ins.MemoryDisplSize = 1;
                    break;
                default:
                {
                    var full = Gprs[rng.Next(Gprs.Length)];
                    var bytes = kind.ToString().StartsWith("r16", StringComparison.Ordinal) ? 2 : kind.ToString().StartsWith("r32", StringComparison.Ordinal) ? 4 : 8;
                    ins.SetOpKind(i, OpKind.Register);
                    ins.SetOpRegister(i, bytes == 8 ? full : bytes == 4 ? Register.EAX + (full - Register.RAX) : Register.AX + (full - Register.RAX));
                    break;
                }
            }
        }
        var stream = new MemoryStream();
        Encoder.Create(64, new StreamCodeWriter(stream)).Encode(ins, GuestRunner.CodeAddress);
        var code64 = GuestRunner.Assemble(64, GuestRunner.CodeAddress, a =>
        {
            a.push(rbx);
            for (var r = 0; r < Gprs.Length; r++) a.mov(new AssemblerRegister64(Gprs[r]), __qword_ptr[rdi + Inputs + 8 * r]);
            a.push(__qword_ptr[rdi + FlagsIn]);
            a.popfq();
            a.db(stream.ToArray());
            a.pushfq();
            a.pop(__qword_ptr[rdi + FlagsOut]);
            for (var r = 0; r < Gprs.Length; r++) a.mov(__qword_ptr[rdi + Outputs + 8 * r], new AssemblerRegister64(Gprs[r]));
            a.pop(rbx);
        });
        var data = new byte[DataSize];
        BitConverter.TryWriteBytes(data.AsSpan(FlagsIn), (rng.NextInt64() & (long)StatusFlags) | 2);
        for (var r = 0; r < Gprs.Length; r++) BitConverter.TryWriteBytes(data.AsSpan(Inputs + 8 * r), Value(rng));
        BitConverter.TryWriteBytes(data.AsSpan(MemoryOperand), Value(rng));
        return ($"{ins} (flags in {BitConverter.ToUInt64(data, FlagsIn):x})", code64, data);
    }

    /// <summary>Edge values, small counts and control words (BEXTR, BZHI, shifts), and random bits.</summary>
    private static ulong Value(Random rng) => rng.Next(8) switch
    {
        0 => 0,
        1 => ulong.MaxValue,
        2 => (ulong)rng.Next(0, 80),
        3 => (ulong)(rng.Next(0, 80) | (rng.Next(0, 80) << 8)),
        4 => 1UL << rng.Next(64),
        5 => 0x8000_0000UL << rng.Next(2),
        _ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63),
    };

    private static byte[] RunOnSimulator(byte[] code, byte[] data)
    {
        const ulong address = 0x200000;
        using var g = GuestRunner.Long(_ => { });
        g.Load(GuestRunner.CodeAddress, [.. code, 0xF4]);
        g.Memory.WriteBytes(address, data);
        g.Cpu.Rdi = address;
        Assert.AreEqual(StopReason.Halted, g.Run(1_000_000));
        Assert.AreEqual(GuestRunner.CodeAddress + (ulong)code.Length + 1, g.Cpu.Rip, "the simulator ran to the end");
        var result = new byte[data.Length];
        for (var i = 0; i < data.Length; i++) result[i] = (byte)g.Memory.Read(address + (ulong)i, 1);
        BitConverter.TryWriteBytes(result.AsSpan(FlagsOut), g.Memory.Read(address + FlagsOut, 8) & StatusFlags);
        return result;
    }
}
