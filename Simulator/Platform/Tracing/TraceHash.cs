using System.Buffers.Binary;

namespace Sim.Platform.Tracing;

/// <summary>
/// 64-bit FNV-1a over an event sequence, for determinism checks: each event contributes its
/// fields in declaration order as little-endian bytes — Cycle (8), Cpu (4), Kind (1), NameId (4),
/// Arg0, Arg1, Arg2 (8 each). Equal sequences give equal values; the empty sequence gives the
/// FNV offset basis.
/// </summary>
public sealed class TraceHash : ITraceListener
{
    public const ulong OffsetBasis = 0xCBF29CE484222325UL;
    private const ulong Prime = 0x100000001B3UL;
    private const int EventBytes = 8 + 4 + 1 + 4 + 3 * 8;

    public ulong Value { get; private set; } = OffsetBasis;

    public ulong Count { get; private set; }

    public void OnEvent(in TraceEvent traceEvent)
    {
        Span<byte> bytes = stackalloc byte[EventBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, traceEvent.Cycle);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[8..], traceEvent.Cpu);
        bytes[12] = (byte)traceEvent.Kind;
        BinaryPrimitives.WriteInt32LittleEndian(bytes[13..], traceEvent.NameId);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[17..], traceEvent.Arg0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[25..], traceEvent.Arg1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[33..], traceEvent.Arg2);
        var hash = Value;
        foreach (var b in bytes) hash = (hash ^ b) * Prime;
        Value = hash;
        Count++;
    }

    /// <summary>The hash of <paramref name="events"/>.</summary>
    public static ulong Of(IEnumerable<TraceEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var hash = new TraceHash();
        foreach (var e in events) hash.OnEvent(in e);
        return hash.Value;
    }
}
