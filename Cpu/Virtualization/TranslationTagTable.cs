namespace Sim.Cpu.Virtualization;

/// <summary>
/// Gives each guest address space a <see cref="Processor.TranslationTag"/>: VMX keys it by (VPID,
/// EPTP), SVM by (ASID, nested CR3). The key (0, 0) is the host and always has tag 0. When every
/// tag is in use the table starts over and the processor drops all cached translations, which
/// hardware may do at any time.
/// </summary>
public sealed class TranslationTagTable
{
    private readonly Processor _cpu;
    private readonly (ulong First, ulong Second)[] _keys;
    private int _count = 1;

    public TranslationTagTable(Processor cpu, int capacity = 256)
    {
        if (capacity < 2 || capacity > Processor.MaxTranslationTag + 1) throw new ArgumentOutOfRangeException(nameof(capacity));
        _cpu = cpu;
        _keys = new (ulong, ulong)[capacity];
    }

    /// <summary>The tag of key (<paramref name="first"/>, <paramref name="second"/>), assigning one if it has none.</summary>
    public int TagFor(ulong first, ulong second)
    {
        if (first == 0 && second == 0) return 0;
        for (var i = 1; i < _count; i++)
            if (_keys[i].First == first && _keys[i].Second == second) return i;
        if (_count == _keys.Length)
        {
            _cpu.TranslationTag = 0;
            _cpu.FlushTranslations();
            _count = 1;
        }
        _keys[_count] = (first, second);
        return _count++;
    }

    /// <summary>Drops the cached translations of every key whose first part is <paramref name="first"/> (INVVPID single-context, flush by ASID).</summary>
    public void FlushFirst(ulong first)
    {
        if (first == 0) _cpu.FlushTranslationTag(0);
        for (var i = 1; i < _count; i++)
            if (_keys[i].First == first) _cpu.FlushTranslationTag(i);
    }

    /// <summary>Drops the cached translations of every key whose second part is <paramref name="second"/> (INVEPT single-context).</summary>
    public void FlushSecond(ulong second)
    {
        for (var i = 1; i < _count; i++)
            if (_keys[i].Second == second) _cpu.FlushTranslationTag(i);
    }

    /// <summary>Drops the cached translations of every guest key, keeping the host's (INVEPT/INVVPID all-context).</summary>
    public void FlushGuests()
    {
        for (var i = 1; i < _count; i++) _cpu.FlushTranslationTag(i);
    }
}
