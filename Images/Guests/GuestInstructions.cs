using Iced.Intel;

namespace Sim.Images.Guests;

/// <summary>Where instructions of a nested guest's code lie, for the RIPs a hypervisor guest's expected output names.</summary>
internal static class GuestInstructions
{
    /// <summary>The address of the first instruction with <paramref name="mnemonic"/> (with a memory operand if asked).</summary>
    public static ulong At(int bitness, ulong address, byte[] code, Mnemonic mnemonic, bool memoryOperand = false) =>
        Find(bitness, address, code, mnemonic, memoryOperand).IP;

    /// <summary>The address after the first instruction with <paramref name="mnemonic"/> (with a memory operand if asked).</summary>
    public static ulong After(int bitness, ulong address, byte[] code, Mnemonic mnemonic, bool memoryOperand = false) =>
        Find(bitness, address, code, mnemonic, memoryOperand).NextIP;

    private static Instruction Find(int bitness, ulong address, byte[] code, Mnemonic mnemonic, bool memoryOperand)
    {
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(code), address);
        while (decoder.IP < address + (ulong)code.Length)
        {
            decoder.Decode(out var instruction);
            if (instruction.Mnemonic == mnemonic && (!memoryOperand || HasMemoryOperand(instruction))) return instruction;
        }

        throw new InvalidOperationException($"no {mnemonic} in the guest code");
    }

    private static bool HasMemoryOperand(in Instruction instruction)
    {
        for (var i = 0; i < instruction.OpCount; i++)
        {
            if (instruction.GetOpKind(i) == OpKind.Memory) return true;
        }

        return false;
    }
}
