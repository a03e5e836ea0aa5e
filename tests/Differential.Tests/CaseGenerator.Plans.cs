using Iced.Intel;

namespace Sim.Differential.Tests;

public sealed partial class CaseGenerator
{
    private static readonly (Register Base, Register Index)[] Forms16 =
    [
        (Register.BX, Register.None), (Register.BP, Register.None), (Register.SI, Register.None), (Register.DI, Register.None),
        (Register.BX, Register.SI), (Register.BX, Register.DI), (Register.BP, Register.SI), (Register.BP, Register.DI),
        (Register.None, Register.None),
    ];

    private int RandomAddressSize() => _mode switch
    {
        GuestMode.Long64 => _rng.Next(100) < 85 ? 64 : 32,
        GuestMode.Protected32 or GuestMode.Compat32 => _rng.Next(100) < 85 ? 32 : 16,
        _ => _rng.Next(100) < 80 ? 16 : 32,
    };

    /// <summary>A plan whose operand lands in the scratch area (16 bytes of room at the target).</summary>
    private MemoryPlan NewPlan()
    {
        var target = (uint)_rng.Next(0x40, 0x1C0);
        return PlanFor(RandomAddressSize(), target, DataLayout.Scratch + target, RandomSegment());
    }

    /// <summary>A plan for an effective address <paramref name="offset"/> within the segment.</summary>
    private MemoryPlan PlanFor(int addressSize, uint target, uint offset, Register segment, bool inScratch = true)
    {
        if (addressSize == 16)
        {
            var (b, x) = Forms16[_rng.Next(Forms16.Length)];
            long disp = b == Register.None ? offset : _rng.Next(3) switch { 0 => 0, 1 => _rng.Next(-128, 128), _ => _rng.Next(0, 0x10000) };
            var indexValue = x == Register.None ? 0UL : (ulong)_rng.Next(0, 0x40);
            var baseLow = (ulong)((offset - disp - (long)indexValue) & 0xFFFF);
            return new MemoryPlan
            {
                AddressSize = 16, InScratch = inScratch, Base = b, Index = x, Displacement = disp, Target = target,
                BaseValue = (RandomBits() & 0xFFFF0000UL) | baseLow,
                IndexValue = (RandomBits() & 0xFFFF0000UL) | indexValue,
                Segment = _bitness == 32 ? Register.GS : segment,
            };
        }
        var linear = _mode.UsesDataSegment() ? offset : (ulong)DataLayout.DataBase + offset;
        var baseIndex = _rng.Next(10) == 0 ? -1 : RandomGpr();
        var index = _rng.Next(10) < 4 ? -1 : RandomGpr();
        var scale = 1 << _rng.Next(4);
        long displacement = baseIndex < 0 && index < 0 ? (long)linear : _rng.Next(3) switch { 0 => 0, 1 => _rng.Next(-128, 128), _ => _rng.Next(-0x10000, 0x10000) };
        if (baseIndex < 0 && index >= 0) scale = 1;
        var idx = index < 0 ? 0UL : (ulong)_rng.Next(0, 0x40);
        if (baseIndex < 0 && index >= 0) idx = linear - (ulong)displacement;
        var baseValue = linear - (ulong)displacement - idx * (ulong)scale;
        var upper = addressSize == 32 && _bitness == 64;
        var regBase = addressSize == 64 ? Register.RAX : Register.EAX;
        return new MemoryPlan
        {
            AddressSize = addressSize,
            InScratch = inScratch,
            Base = baseIndex < 0 ? Register.None : regBase + baseIndex,
            Index = index < 0 ? Register.None : regBase + index,
            Scale = scale,
            Displacement = displacement,
            Target = target,
            BaseValue = upper ? (RandomBits() & ~0xFFFFFFFFUL) | (uint)baseValue : addressSize == 32 ? (uint)baseValue : baseValue,
            IndexValue = upper ? (RandomBits() & ~0xFFFFFFFFUL) | (uint)idx : addressSize == 32 ? (uint)idx : idx,
            Segment = segment,
        };
    }

    /// <summary>Segments with the data window's base. Never CS: QEMU's TCG does not enforce that code segments are not writable.</summary>
    private Register RandomSegment()
    {
        if (_rng.Next(100) < 60) return Register.None;
        Register[] choices = _mode switch
        {
            GuestMode.Real16 => [Register.DS, Register.ES, Register.SS, Register.FS, Register.GS],
            GuestMode.Protected16 => [Register.DS, Register.ES, Register.SS, Register.FS, Register.GS],
            GuestMode.Protected32 or GuestMode.Compat32 => [Register.DS, Register.ES, Register.SS],
            _ => [Register.DS, Register.ES, Register.SS, Register.FS, Register.GS, Register.CS],
        };
        return choices[_rng.Next(choices.Length)];
    }

    /// <summary>Any addressing form with any registers: for LEA, which never accesses memory.</summary>
    private MemoryPlan FreePlan()
    {
        var size = RandomAddressSize();
        if (size == 16)
        {
            var (b, x) = Forms16[_rng.Next(Forms16.Length - 1)];
            return new MemoryPlan { AddressSize = 16, Base = b, Index = x, Displacement = _rng.Next(2) == 0 ? _rng.Next(-128, 128) : _rng.Next(0, 0x10000) };
        }
        var regBase = size == 64 ? Register.RAX : Register.EAX;
        var count = size == 64 ? 16 : 8;
        var baseIndex = _rng.Next(8) == 0 ? -1 : _rng.Next(count);
        var index = _rng.Next(3) == 0 ? -1 : RandomGpr();
        return new MemoryPlan
        {
            AddressSize = size,
            Base = baseIndex < 0 ? Register.None : regBase + baseIndex,
            Index = index < 0 ? Register.None : regBase + index,
            Scale = 1 << _rng.Next(4),
            Displacement = _rng.Next(3) switch { 0 => 0, 1 => _rng.Next(-128, 128), _ => _rng.Next(int.MinValue, int.MaxValue) },
        };
    }
}
