using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// A generated SIMD case: the FXRSTOR image it starts from (x87/MMX, MXCSR, XMM0–7), the general registers and
/// EFLAGS, a 64-byte memory block its memory operands address, and the instructions.
/// </summary>
public sealed class SimdCase
{
    public required int Index { get; init; }
    public required byte[] Image { get; init; }
    /// <summary>EAX/RAX, ECX, EDX, EBX and in 64-bit mode R8–R10.</summary>
    public required ulong[] Registers { get; init; }

    /// <summary>Whether the case runs in 64-bit mode (FXSAVE64 records, XMM8–15, REX.W forms).</summary>
    public bool Long64 { get; init; }
    public required uint Flags { get; init; }
    public required byte[] Memory { get; init; }

    /// <summary>Of an AVX case: bits 255:128 of YMM0–15, 16 bytes each (null for the legacy cases).</summary>
    public byte[]? Upper { get; init; }
    public required List<Instruction> Instructions { get; init; }

    /// <summary>Of an x87 case (<see cref="SimdCaseGenerator.GenerateX87"/>): its record holds the vector of a fault in place of R8.</summary>
    public bool X87 { get; init; }

    /// <summary>Guest-physical address of the case's memory block (its memory operands' displacement base).</summary>
    public required uint MemoryAddress { get; init; }

    public uint Mxcsr => BitConverter.ToUInt32(Image, 24);

    public string Describe()
    {
        var formatter = new NasmFormatter();
        var output = new StringOutput();
        var lines = new List<string>();
        foreach (var i in Instructions)
        {
            formatter.Format(i, output);
            lines.Add(output.ToStringAndReset());
        }
        var xmm = string.Join(" ", Enumerable.Range(0, Long64 ? 16 : 8).Select(r => $"xmm{r}={BitConverter.ToUInt64(Image, 168 + 16 * r):x16}_{BitConverter.ToUInt64(Image, 160 + 16 * r):x16}"));
        var mm = string.Join(" ", Enumerable.Range(0, 8).Select(r => $"mm{r}={BitConverter.ToUInt64(Image, 32 + 16 * r):x16}"));
        var mem = string.Join(" ", Enumerable.Range(0, 8).Select(q => BitConverter.ToUInt64(Memory, q * 8).ToString("x16")));
        if (X87)
        {
            var st = string.Join(" ", Enumerable.Range(0, 8).Select(r => $"st{r}={BitConverter.ToUInt16(Image, 40 + 16 * r):x4}:{BitConverter.ToUInt64(Image, 32 + 16 * r):x16}"));
            return $"case {Index}: {string.Join("; ", lines)}\n  fcw={BitConverter.ToUInt16(Image, 0):x4} fsw={BitConverter.ToUInt16(Image, 2):x4} ftw={Image[4]:x2} eflags={Flags:x} gprs={string.Join(",", Registers.Select(r => r.ToString("x")))}\n  {st}\n  mem@{MemoryAddress:x}: {mem}";
        }
        var upper = Upper == null ? "" : "\n  " + string.Join(" ", Enumerable.Range(0, Long64 ? 16 : 8).Select(r => $"ymm{r}.hi={BitConverter.ToUInt64(Upper, 16 * r + 8):x16}_{BitConverter.ToUInt64(Upper, 16 * r):x16}"));
        return $"case {Index}: {string.Join("; ", lines)}{upper}\n  mxcsr={Mxcsr:x4} eflags={Flags:x} gprs={string.Join(",", Registers.Select(r => r.ToString("x")))}\n  {xmm}\n  {mm}\n  mem@{MemoryAddress:x}: {mem}";
    }
}
