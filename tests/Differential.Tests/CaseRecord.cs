namespace Sim.Differential.Tests;

/// <summary>The state record a guest writes to port E9h after a case (normal end or exception).</summary>
public sealed class CaseRecord
{
    /// <summary>Position of the case within its guest.</summary>
    public required int CaseIndex { get; init; }

    /// <summary>Exception vector, or -1 when the case ran to its end.</summary>
    public required int Vector { get; init; }
    public required ulong ErrorCode { get; init; }
    public required ulong FaultRip { get; init; }
    public required ulong Cr2 { get; init; }
    public required ulong Flags { get; init; }
    public required ulong ScratchChecksum { get; init; }
    public required ulong[] Registers { get; init; }

    public static List<CaseRecord> Parse(GuestMode mode, ReadOnlySpan<byte> bytes)
    {
        var slot = mode.SlotBytes();
        var count = DataLayout.RecordHeaderSlots + mode.RegisterCount();
        var size = slot * count;
        var records = new List<CaseRecord>();
        for (var at = 0; at + size <= bytes.Length; at += size)
        {
            var s = new ulong[count];
            for (var i = 0; i < count; i++)
            {
                var p = bytes.Slice(at + i * slot, slot);
                s[i] = slot == 8 ? BitConverter.ToUInt64(p) : BitConverter.ToUInt32(p);
            }
            records.Add(new CaseRecord
            {
                CaseIndex = (int)s[0],
                Vector = slot == 8 ? (int)(long)s[1] : (int)(uint)s[1],
                ErrorCode = s[2], FaultRip = s[3], Cr2 = s[4], Flags = s[5], ScratchChecksum = s[6],
                Registers = s[DataLayout.RecordHeaderSlots..],
            });
        }
        return records;
    }
}
