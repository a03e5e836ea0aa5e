using System.Buffers.Binary;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// A sequence of x87 instructions run on the simulator and on the host's x87 alike, 64-bit code that addresses its data
/// through RDI: it starts with FNINIT and ends with FNSAVE of the state to <see cref="StateOffset"/> and EFLAGS at
/// <see cref="FlagsOffset"/>; the two data areas must then agree (FIP and FDP relative to the code and data, the
/// selectors, which the host's 64-bit mode does not have, left out), also in the 32-bit environment images stored at
/// <see cref="Environments"/>; in the 16-bit images at <see cref="Environments16"/> the pointers and selectors are left out.
/// </summary>
internal sealed record X87Sequence(string Name, Action<Assembler> Body, byte[] Operands, int[] Environments, int[]? Environments16 = null)
{
    public const int DataSize = 0x400;
    public const int ResultOffset = 0x100;
    public const int StateOffset = 0x200;
    public const int FlagsOffset = 0x300;
    private const ulong SimDataAddress = 0x200000;

    public byte[] Code()
    {
        return GuestRunner.Assemble(64, GuestRunner.CodeAddress, a =>
        {
            // EFLAGS from a known state (ZF and PF set), as the host's are whatever its caller left.
            a.xor(eax, eax);
            a.fninit();
            Body(a);
            a.fnsave(__[rdi + StateOffset]);
            a.pushfq();
            a.pop(rax);
            a.mov(__qword_ptr[rdi + FlagsOffset], rax);
        });
    }

    public byte[] Data()
    {
        var data = new byte[DataSize];
        Operands.CopyTo(data, 0);
        return data;
    }

    /// <summary>Runs every sequence on the host in one oracle process and on the simulator, and compares.</summary>
    public static void AssertAllMatchHost(IReadOnlyList<X87Sequence> sequences)
    {
        var failures = Differences(sequences);
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures));
    }

    /// <summary>The sequences whose results differ from the host's, each with its first difference.</summary>
    public static List<string> Differences(IReadOnlyList<X87Sequence> sequences)
    {
        var codes = sequences.Select(s => s.Code()).ToArray();
        var host = X87Oracle.RunSequences(sequences.Select((s, i) => (codes[i], s.Data())).ToArray());
        var failures = new List<string>();
        for (var i = 0; i < sequences.Count; i++)
        {
            var sim = RunOnSimulator(codes[i], sequences[i].Data(), out var faultRip, out var faultState, out var stop);
            var difference = host[i].FaultRip is { } hostRip
                ? CompareFault(host[i], hostRip, faultRip, faultState) ?? Compare(host[i], sim, [], [])
                : stop ?? Compare(host[i], sim, sequences[i].Environments, sequences[i].Environments16 ?? []);
            if (difference != null) failures.Add($"{sequences[i].Name}: {difference}");
        }
        return failures;
    }

    /// <summary>
    /// Runs the code with CR0.NE set, so that a pending unmasked exception raises #MF: then the faulting RIP and the
    /// x87 state in the layout of FXSAVE's first 160 bytes, as the host's kernel saves it at the fault.
    /// </summary>
    private static byte[] RunOnSimulator(byte[] code, byte[] data, out ulong? faultRip, out byte[]? faultState, out string? failure)
    {
        using var g = GuestRunner.Long(_ => { });
        g.Load(GuestRunner.CodeAddress, [.. code, 0xF4]);
        g.Memory.WriteBytes(SimDataAddress, data);
        g.Cpu.Rdi = SimDataAddress;
        g.Cpu.LoadControlState(g.Cpu.Cr0 | Registers.Cr0.NE, g.Cpu.Cr3, g.Cpu.Cr4, g.Cpu.Efer);
        var stop = g.Run(1_000_000);
        var expectedHlt = GuestRunner.CodeAddress + (ulong)code.Length + 1;
        faultRip = null;
        faultState = null;
        failure = stop == StopReason.Halted && g.Cpu.Rip == expectedHlt ? null : $"the simulator stopped with {stop} at {g.Cpu.Rip:x} (vector {g.HaltedVector})";
        if (stop == StopReason.Halted && g.HaltedVector == Registers.ExceptionVector.MF)
        {
            faultRip = g.Stack(0, 8);
            faultState = FxsaveImage(g.Cpu);
        }
        var result = new byte[data.Length];
        for (var i = 0; i < result.Length; i++) result[i] = (byte)g.Memory.Read(SimDataAddress + (ulong)i, 1);
        return result;
    }

    private static byte[] FxsaveImage(Processor cpu)
    {
        var image = new byte[160];
        BinaryPrimitives.WriteUInt16LittleEndian(image, cpu.FpuControlWord);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(2), cpu.FpuStatusWord);
        image[4] = cpu.FpuAbridgedTagWord;
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(6), cpu.FpuOpcode);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(8), cpu.FpuInstructionPointer);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(16), cpu.FpuDataPointer);
        var top = (cpu.FpuStatusWord >> 11) & 7;
        for (var i = 0; i < 8; i++) cpu.GetFpuRegister((top + i) & 7).Write(image.AsSpan(32 + 16 * i));
        return image;
    }

    /// <summary>Both took #MF at the same instruction with the same x87 state (FIP and FDP relative to the code and data; MXCSR left out).</summary>
    private static string? CompareFault(X87Oracle.SequenceResult host, ulong hostRip, ulong? simRip, byte[]? simState)
    {
        if (simRip is not { } rip || simState == null) return $"the host took #MF at code offset {hostRip - host.CodeAddress:X}, the simulator did not";
        if (rip - GuestRunner.CodeAddress != hostRip - host.CodeAddress)
            return $"#MF at code offset {hostRip - host.CodeAddress:X} on the host, {rip - GuestRunner.CodeAddress:X} on the simulator";
        var expected = (byte[])host.FaultState!.Clone();
        var actual = (byte[])simState.Clone();
        Array.Clear(expected, 24, 8);
        Array.Clear(actual, 24, 8);
        foreach (var (d, code, data) in new[] { (expected, host.CodeAddress, host.DataAddress), (actual, GuestRunner.CodeAddress, SimDataAddress) })
        {
            var ip = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(8));
            var dp = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(16));
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(8), ip == 0 ? 0 : ip - code);
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(16), dp == 0 ? 0 : dp - data);
            // The bytes between the 80-bit registers are reserved.
            for (var i = 0; i < 8; i++) Array.Clear(d, 32 + 16 * i + 10, 6);
        }
        for (var i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
                return $"#MF state differs at FXSAVE offset {i}: host {Convert.ToHexString(expected)} simulator {Convert.ToHexString(actual)}";
        }
        return null;
    }

    private static string? Compare(X87Oracle.SequenceResult host, byte[] sim, int[] environments, int[] environments16)
    {
        var expected = (byte[])host.Data.Clone();
        var actual = (byte[])sim.Clone();
        foreach (var at in environments16)
        {
            // FIP, FCS, FDP, FDS: 16-bit offsets of 64-bit addresses and the host's selectors.
            foreach (var d in new[] { expected, actual }) Array.Clear(d, at + 6, 8);
        }
        foreach (var d in new[] { expected, actual })
        {
            var flags = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(FlagsOffset));
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(FlagsOffset), flags & 0x8D5);
        }
        foreach (var at in environments.Append(StateOffset))
        {
            // FCS (beside FOP) and FDS: the host's 64-bit selectors are not the simulator's.
            foreach (var d in new[] { expected, actual })
            {
                d[at + 16] = d[at + 17] = 0;
                d[at + 24] = d[at + 25] = 0;
            }
            Relocate(expected, at + 12, (uint)host.CodeAddress);
            Relocate(actual, at + 12, (uint)GuestRunner.CodeAddress);
            Relocate(expected, at + 20, (uint)host.DataAddress);
            Relocate(actual, at + 20, (uint)SimDataAddress);
        }
        for (var i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
                return $"first difference at data offset {i:X3}: host {Dump(expected, i)} simulator {Dump(actual, i)}; "
                    + $"FSAVE host {Convert.ToHexString(expected, StateOffset, 108)} simulator {Convert.ToHexString(actual, StateOffset, 108)}";
        }
        return null;
    }

    private static void Relocate(byte[] d, int offset, uint origin)
    {
        var value = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(offset));
        if (value != 0) BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(offset), value - origin);
    }

    private static string Dump(byte[] d, int at)
    {
        var start = at & ~7;
        return Convert.ToHexString(d, start, Math.Min(16, d.Length - start));
    }
}
