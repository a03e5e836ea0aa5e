namespace Sim.Differential.Tests;

/// <summary>
/// Generates <see cref="XsaveCase"/>s: images whose components are random or in their initial configuration (so that the
/// init optimization shows), random XSTATE_BV and masks, x87 control words and MXCSR values that raise no exception
/// (all masked, no pending exception, reserved bits clear). XSAVEC and XSAVES, for Bochs only, get no AVX in their mask.
/// </summary>
public sealed class XsaveCaseGenerator(int seed, bool compaction)
{
    private readonly Random _random = new(seed);

    private ulong Mask() => _random.Next(4) == 0 ? 7UL : (ulong)_random.Next(8);

    private ulong Subset(ulong of) => _random.Next(3) == 0 ? of : of & (ulong)_random.Next(8);

    public XsaveCase Generate(int index)
    {
        var image = new byte[XsaveCase.AreaBytes];
        var initial = _random.Next(3) == 0;
        var fcw = initial ? 0x037F : 0x007F | (_random.Next(4) << 8) | (_random.Next(4) << 10);
        BitConverter.TryWriteBytes(image.AsSpan(0), (ushort)fcw);
        // FSW: TOP and the condition codes but C1 (which QEMU 7.2's FLD leaves where the SDM clears it); no exception flag, so nothing is pending.
        BitConverter.TryWriteBytes(image.AsSpan(2), (ushort)(initial ? 0 : _random.Next(0x10000) & 0x4500 | (_random.Next(8) << 11)));
        image[4] = initial ? (byte)0 : (byte)_random.Next(256);
        if (!initial)
        {
            BitConverter.TryWriteBytes(image.AsSpan(6), (ushort)_random.Next(0x800));
            BitConverter.TryWriteBytes(image.AsSpan(8), (ulong)_random.NextInt64());
            BitConverter.TryWriteBytes(image.AsSpan(16), (ulong)_random.NextInt64());
            for (var r = 0; r < 8; r++) _random.NextBytes(image.AsSpan(32 + 16 * r, 10));
        }
        var mxcsr = _random.Next(3) == 0 ? 0x1F80u : 0x1F80u | (uint)(_random.Next(4) << 13) | (uint)(_random.Next(2) << 15) | (uint)(_random.Next(2) << 6) | (uint)_random.Next(64);
        BitConverter.TryWriteBytes(image.AsSpan(24), mxcsr);
        if (_random.Next(3) != 0) _random.NextBytes(image.AsSpan(160, 256));
        if (_random.Next(3) != 0) _random.NextBytes(image.AsSpan(576, 256));
        BitConverter.TryWriteBytes(image.AsSpan(512), Mask());

        var form = (XsaveForm)_random.Next(compaction ? 5 : 3);
        var save = new byte[XsaveCase.AreaBytes];
        _random.NextBytes(save);
        // The fields the second XRSTOR could read without the save having written them get valid values.
        BitConverter.TryWriteBytes(save.AsSpan(512), Mask());
        save.AsSpan(520, 56).Clear();
        var saveMask = Mask();
        // Bochs 2.7's XSAVEC and XSAVES store the AVX state at the wrong offset (XsaveOracleDeviations.BochsXsavecAvxOffset).
        if (form is XsaveForm.Xsavec64 or XsaveForm.Xsaves64) saveMask &= 3;
        return new XsaveCase
        {
            Index = index,
            Image = image,
            SaveArea = save,
            RestoreMask = Mask(),
            Step = (XsaveStep)_random.Next(5),
            StepRegister = _random.Next(16),
            Form = form,
            SaveMask = saveMask,
            SecondMask = Subset(saveMask),
        };
    }
}
