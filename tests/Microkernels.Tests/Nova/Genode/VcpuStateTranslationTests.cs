using Sim.Microkernels.Nova;
using Sim.Microkernels.Nova.Genode;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Tests.Nova.Genode;

/// <summary>
/// The current translation (Genode base-nova vm.cc <c>Nova_vcpu::_read_nova_state</c> / <c>_write_nova_state</c>): one
/// MTD group at a time, a UTCB filled with known bytes, compared with the NH utcb.hpp fields each register occupies.
/// </summary>
[TestClass]
public sealed class VcpuStateTranslationTests
{
    private static readonly StateRegister<VcpuState>[] Registers = StateRegisters.Current;

    private static VcpuState AllCharged()
    {
        var s = new VcpuState();
        for (var i = 0; i < Registers.Length; i++) Registers[i].Set(s, StateRegisters.Seed(i));
        return s;
    }

    [TestMethod]
    public void Read_EachGroupAlone_ChargesExactlyItsRegisters_WithTheUtcbValues()
    {
        foreach (var group in StateRegisters.Groups(Registers))
        {
            using var u = new UtcbImage();
            u.SetWord(0x20, (ulong)group);
            u.SetWord(0x250, 0x1E);
            var state = AllCharged();

            NovaStateTranslation.Read(u.Memory, UtcbImage.Address, state);

            Assert.AreEqual(0x1Eu, state.ExitReason);
            Assert.IsFalse(state.Fpu.Charged, $"{group}: fpu");
            foreach (var r in Registers)
            {
                Assert.AreEqual(r.Group == group, r.IsSet(state), $"{group}: {r} charged");
                if (r.Group != group) continue;
                var values = r.Values(state);
                for (var f = 0; f < r.Fields.Length; f++)
                    Assert.AreEqual(u.PatternValue(r.Fields[f].Offset, r.Fields[f].Size), values[f], $"{r} field {f}");
            }
        }
    }

    [TestMethod]
    public void Read_ExitReason_IsTheLow32BitsOfExitValue()
    {
        using var u = new UtcbImage();
        u.SetWord(0x20, 0);
        u.SetWord(0x250, 0x0000_0001_0000_0087);
        var state = new VcpuState { ExitReason = 5 };

        NovaStateTranslation.Read(u.Memory, UtcbImage.Address, state);

        Assert.AreEqual(0x87u, state.ExitReason);
    }

    [TestMethod]
    public void Read_FpuBit_ChargesTheWholeImage_ThenAsManyBytesAsTheStateLastReported()
    {
        using var u = new UtcbImage();
        u.SetWord(0x20, (ulong)Mtd.Fpu);
        var state = new VcpuState();

        NovaStateTranslation.Read(u.Memory, UtcbImage.Address, state);

        Assert.IsTrue(state.Fpu.Charged);
        Assert.AreEqual(2560, state.Fpu.Size);
        CollectionAssert.AreEqual(u.Pattern.AsSpan(0x258, 2560).ToArray(), state.Fpu.Bytes.ToArray());

        state.Fpu.Charge(static image => { image.Fill(0xA5); return 512; });
        NovaStateTranslation.Read(u.Memory, UtcbImage.Address, state);

        Assert.AreEqual(512, state.Fpu.Size);
        CollectionAssert.AreEqual(u.Pattern.AsSpan(0x258, 512).ToArray(), state.Fpu.Bytes[..512].ToArray());
        Assert.IsTrue(state.Fpu.Bytes[512..].ToArray().All(b => b == 0xA5));
    }

    [TestMethod]
    public void Read_WithoutFpuBit_DischargesTheFpu()
    {
        using var u = new UtcbImage();
        u.SetWord(0x20, (ulong)Mtd.RipLen);
        var state = new VcpuState();
        state.Fpu.Charge(static image => image.Length);

        NovaStateTranslation.Read(u.Memory, UtcbImage.Address, state);

        Assert.IsFalse(state.Fpu.Charged);
    }

    [TestMethod]
    public void Write_EachRegisterAlone_SetsItsGroupBit_AndWritesEveryRegisterOfTheGroup_ButNeverQual()
    {
        for (var i = 0; i < Registers.Length; i++)
        {
            using var u = new UtcbImage();
            var state = AllCharged();
            state.Discharge();
            Registers[i].Set(state, StateRegisters.Seed(i));

            NovaStateTranslation.Write(u.Memory, UtcbImage.Address, state);

            var sent = Registers[i].Replied ? Registers[i].Group : Mtd.None;
            var expected = (byte[])u.Pattern.Clone();
            UtcbImage.Put(expected, 0x00, 8, 0);
            UtcbImage.Put(expected, 0x20, 8, (ulong)sent);
            foreach (var r in Registers.Where(r => r.Group == sent))
            {
                var values = r.Values(state);
                for (var f = 0; f < r.Fields.Length; f++)
                    UtcbImage.Put(expected, r.Fields[f].Offset, r.Fields[f].Size, values[f]);
            }
            CollectionAssert.AreEqual(expected, u.Page(), Registers[i].Name);
        }
    }

    [TestMethod]
    public void Write_ChargedFpu_CopiesAll2560Bytes_AndSetsTheFpuBit()
    {
        using var u = new UtcbImage();
        var state = new VcpuState();
        state.Fpu.Charge(static image => { for (var i = 0; i < image.Length; i++) image[i] = (byte)(i * 5 + 2); return 512; });

        NovaStateTranslation.Write(u.Memory, UtcbImage.Address, state);

        var expected = (byte[])u.Pattern.Clone();
        UtcbImage.Put(expected, 0x00, 8, 0);
        UtcbImage.Put(expected, 0x20, 8, (ulong)Mtd.Fpu);
        var page = u.Page();
        CollectionAssert.AreEqual(expected.AsSpan(0, 0x258).ToArray(), page.AsSpan(0, 0x258).ToArray());
        var image = new byte[2560];
        u.Memory.ReadBytes(UtcbImage.Address + 0x258, image);
        for (var i = 0; i < 2560; i++) Assert.AreEqual((byte)(i * 5 + 2), image[i], $"fpu byte {i}");
    }

    [TestMethod]
    public void Write_NothingCharged_ClearsItemsAndMtd_Only()
    {
        using var u = new UtcbImage();
        var state = AllCharged();
        state.Discharge();

        NovaStateTranslation.Write(u.Memory, UtcbImage.Address, state);

        var expected = (byte[])u.Pattern.Clone();
        UtcbImage.Put(expected, 0x00, 8, 0);
        UtcbImage.Put(expected, 0x20, 8, 0);
        CollectionAssert.AreEqual(expected, u.Page());
    }
}
