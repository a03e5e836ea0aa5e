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
            var sim = RunOnSimulator(codes[i], sequences[i].Data(), out var stop);
            var difference = stop ?? Compare(host[i], sim, sequences[i].Environments, sequences[i].Environments16 ?? []);
            if (difference != null) failures.Add($"{sequences[i].Name}: {difference}");
        }
        return failures;
    }

    private static byte[] RunOnSimulator(byte[] code, byte[] data, out string? failure)
    {
        using var g = GuestRunner.Long(_ => { });
        g.Load(GuestRunner.CodeAddress, [.. code, 0xF4]);
        g.Memory.WriteBytes(SimDataAddress, data);
        g.Cpu.Rdi = SimDataAddress;
        var stop = g.Run(1_000_000);
        var expectedHlt = GuestRunner.CodeAddress + (ulong)code.Length + 1;
        failure = stop == StopReason.Halted && g.Cpu.Rip == expectedHlt ? null : $"the simulator stopped with {stop} at {g.Cpu.Rip:x} (vector {g.HaltedVector})";
        var result = new byte[data.Length];
        for (var i = 0; i < result.Length; i++) result[i] = (byte)g.Memory.Read(SimDataAddress + (ulong)i, 1);
        return result;
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
