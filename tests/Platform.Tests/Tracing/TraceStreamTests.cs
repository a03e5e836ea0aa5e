using System.Text;
using Sim.Platform.Tracing;

namespace Sim.Platform.Tests.Tracing;

[TestClass]
public sealed class TraceStreamTests
{
    /// <summary>64-bit FNV-1a as its authors define it (offset basis CBF29CE484222325h, prime 100000001B3h).</summary>
    private static ulong Fnv1a(IEnumerable<byte> bytes)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in bytes) hash = (hash ^ b) * 0x100000001B3UL;
        return hash;
    }

    private static IEnumerable<byte> Bytes(TraceEvent e) =>
        BitConverter.GetBytes(e.Cycle).Concat(BitConverter.GetBytes(e.Cpu)).Append((byte)e.Kind).Concat(BitConverter.GetBytes(e.NameId))
            .Concat(BitConverter.GetBytes(e.Arg0)).Concat(BitConverter.GetBytes(e.Arg1)).Concat(BitConverter.GetBytes(e.Arg2));

    private static readonly TraceEvent[] Sample =
    [
        TraceEvent.GuestExit(1000, 0, 1, 10),
        TraceEvent.KernelEnter(1250, 0, 3),
        TraceEvent.ThreadSwitch(1300, 0, 7, 9),
        TraceEvent.Ipi(1400, 0, 1, 0xF0),
        TraceEvent.Signal(1500, 1, 4, 5),
        TraceEvent.KernelLeave(1600, 0, 3, 0),
        TraceEvent.GuestEntry(1900, 0, 1),
    ];

    [TestMethod]
    public void TheStreamIsEnabledOnlyWhileAListenerIsAttached()
    {
        var stream = new TraceStream();
        Assert.IsFalse(stream.Enabled);
        var a = new RecordingTraceListener();
        var b = new RecordingTraceListener();
        stream.Attach(a);
        stream.Attach(b);
        Assert.IsTrue(stream.Enabled);
        Assert.IsTrue(stream.Detach(a));
        Assert.IsTrue(stream.Enabled);
        Assert.IsFalse(stream.Detach(a));
        Assert.IsTrue(stream.Detach(b));
        Assert.IsFalse(stream.Enabled);
        Assert.ThrowsExactly<InvalidOperationException>(() => { stream.Attach(a); stream.Attach(a); });
    }

    [TestMethod]
    public void ListenersReceiveEveryEventInOrderWithItsFields()
    {
        var stream = new TraceStream();
        var first = new RecordingTraceListener();
        var second = new RecordingTraceListener();
        stream.Attach(first);
        foreach (var e in Sample[..3]) stream.Emit(e);
        stream.Attach(second);
        foreach (var e in Sample[3..]) stream.Emit(e);
        CollectionAssert.AreEqual(Sample, first.Events.ToArray());
        CollectionAssert.AreEqual(Sample[3..], second.Events.ToArray(), "a listener sees what is emitted after it is attached");
        var ipi = first.Events[3];
        Assert.AreEqual((TraceEventKind.Ipi, 0, 0UL, 1UL, 0xF0UL), (ipi.Kind, ipi.Cpu, ipi.Arg0, ipi.Arg1, ipi.Arg2));
        var exit = first.Events[0];
        Assert.AreEqual((1000UL, TraceEventKind.GuestExit, 1UL, 10UL), (exit.Cycle, exit.Kind, exit.Arg0, exit.Arg1));
        var switched = first.Events[2];
        Assert.AreEqual((7UL, 9UL), (switched.Arg0, switched.Arg1));
    }

    [TestMethod]
    public void NamesAreRegisteredOnceAndLookedUpById()
    {
        var stream = new TraceStream();
        var call = stream.RegisterName("pt_call");
        var reply = stream.RegisterName("reply");
        Assert.AreEqual(1, call);
        Assert.AreEqual(2, reply);
        Assert.AreEqual(call, stream.RegisterName("pt_call"));
        Assert.AreEqual("reply", stream.NameOf(reply));
        Assert.AreEqual("", stream.NameOf(0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => stream.NameOf(3));
    }

    [TestMethod]
    public void TheHashIsFnv1aOverTheFieldsOfEveryEvent()
    {
        Assert.AreEqual(0xAF63DC4C8601EC8CUL, Fnv1a(Encoding.ASCII.GetBytes("a")), "the published FNV-1a 64 test vector");
        Assert.AreEqual(TraceHash.OffsetBasis, new TraceHash().Value);
        Assert.AreEqual(Fnv1a(Sample.SelectMany(Bytes)), TraceHash.Of(Sample));
    }

    [TestMethod]
    public void TheHashTellsSequencesApart()
    {
        var same = TraceHash.Of(Sample.ToArray());
        Assert.AreEqual(TraceHash.Of(Sample), same);
        var reordered = Sample.ToArray();
        (reordered[1], reordered[2]) = (reordered[2], reordered[1]);
        Assert.AreNotEqual(same, TraceHash.Of(reordered));
        var changed = Sample.ToArray();
        changed[4] = changed[4] with { Arg1 = 6 };
        Assert.AreNotEqual(same, TraceHash.Of(changed));
        var later = Sample.ToArray();
        later[0] = later[0] with { Cycle = 1001 };
        Assert.AreNotEqual(same, TraceHash.Of(later));
    }

    [TestMethod]
    public void EmittingAllocatesNothing()
    {
        var stream = new TraceStream();
        var hash = new TraceHash();
        stream.Attach(hash);
        stream.Emit(Sample[0]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong i = 0; i < 10_000; i++)
        {
            if (stream.Enabled) stream.Emit(TraceEvent.ThreadSwitch(i, 0, i, i + 1));
        }
        Assert.AreEqual(before, GC.GetAllocatedBytesForCurrentThread());
        Assert.AreEqual(10_001UL, hash.Count);
    }

    [TestMethod]
    public void AMachineHasItsOwnStream()
    {
        using var a = new Machine(new MachineConfig());
        using var b = new Machine(new MachineConfig());
        Assert.IsFalse(a.Trace.Enabled);
        Assert.AreNotSame(a.Trace, b.Trace);
    }
}
