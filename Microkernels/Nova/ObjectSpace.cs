namespace Sim.Microkernels.Nova;

/// <summary>
/// A PD's object space (NOVA's <c>Space_obj</c>): selectors naming capabilities. Delegations are
/// remembered, so that revoke removes what was derived from a capability in other spaces too.
/// </summary>
public sealed class ObjectSpace
{
    /// <summary>Selectors are below 2^(64−12) in NOVA; a larger one names nothing.</summary>
    public const ulong SelectorLimit = 1UL << 52;

    private readonly Dictionary<ulong, Capability> _slots = new();
    private readonly Dictionary<ulong, List<(ObjectSpace Space, ulong Selector)>> _derived = new();

    public int Count => _slots.Count;

    public Capability? Lookup(ulong selector) => _slots.TryGetValue(selector, out var c) ? c : null;

    public T? Lookup<T>(ulong selector, uint rights = 0) where T : KernelObject =>
        _slots.TryGetValue(selector, out var c) && c.Object is T o && c.Has(rights) ? o : null;

    /// <summary>Puts a capability at a free selector; false when the selector is taken or out of range.</summary>
    public bool Insert(ulong selector, Capability capability)
    {
        if (selector >= SelectorLimit) return false;
        return _slots.TryAdd(selector, capability);
    }

    /// <summary>Delegates the capability at <paramref name="selector"/> to <paramref name="target"/> with <paramref name="rightsMask"/> applied; false when there is none or the target selector is taken.</summary>
    public bool Delegate(ulong selector, ObjectSpace target, ulong targetSelector, uint rightsMask)
    {
        if (!_slots.TryGetValue(selector, out var c)) return false;
        if (!target.Insert(targetSelector, c with { Rights = c.Rights & rightsMask })) return false;
        if (!_derived.TryGetValue(selector, out var list)) _derived[selector] = list = new();
        list.Add((target, targetSelector));
        return true;
    }

    /// <summary>Removes what was delegated from <paramref name="selector"/>, recursively, and the capability itself when <paramref name="self"/>.</summary>
    public void Revoke(ulong selector, bool self)
    {
        if (_derived.Remove(selector, out var list))
            foreach (var (space, s) in list) space.Revoke(s, self: true);
        if (self) _slots.Remove(selector);
    }
}
