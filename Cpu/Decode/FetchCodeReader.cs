using Iced.Intel;

namespace Sim.Cpu;

/// <summary>The byte source of the processor's decoders: a window over a reusable buffer, so that decoding allocates nothing.</summary>
internal sealed class FetchCodeReader : CodeReader
{
    private byte[] _data = [];
    private int _end;

    public int Position { get; set; }

    public void Reset(byte[] data, int position, int end)
    {
        _data = data;
        Position = position;
        _end = end;
    }

    /// <summary>Byte <paramref name="index"/> of the instruction of <paramref name="length"/> bytes that was just decoded.</summary>
    public byte InstructionByte(int length, int index) => _data[Position - length + index];

    public override int ReadByte() => Position < _end ? _data[Position++] : -1;
}
