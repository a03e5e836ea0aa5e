namespace Sim.Microkernels.Nova.Genode;

/// <summary>Hands out free selectors of one PD's object space, counting up (Genode's cap-map allocator on NOVA), optionally in aligned ranges.</summary>
internal sealed class SelectorAllocator(ulong first)
{
    private ulong _next = first;

    public ulong Allocate(int log2Count = 0)
    {
        var size = 1UL << log2Count;
        var selector = (_next + size - 1) & ~(size - 1);
        _next = selector + size;
        return selector;
    }
}
