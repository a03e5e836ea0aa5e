using Sim.Microkernels.Nova;
using Sim.Microkernels.Nova.Genode;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Tests.Nova.Genode;

/// <summary>
/// The 2019 translation (Genode base-nova vm_session.cc <c>_read_nova_state</c> / <c>_write_nova_state</c>): one MTD
/// group at a time, a UTCB filled with known bytes, compared with the NH utcb.hpp fields each register occupies.
/// </summary>
[TestClass]
public sealed class VmStateTranslationTests
{
    private static readonly StateRegister<VmState>[] Registers = StateRegisters.Vm2019;

    private static VmState AllValid()
    {
        var s = new VmState();
        for (var i = 0; i < Registers.Length; i++) Registers[i].Set(s, StateRegisters.Seed(i));
        s.Fpu.Value(static b => b.Fill(0xEE));
        return s;
    }

    [TestMethod]
    public void Read_EachGroupAlone_MakesExactlyItsRegistersValid_WithTheUtcbValues()
    {
        foreach (var group in StateRegisters.Groups(Registers))
        {
            using var u = new UtcbImage();
            u.SetWord(0x20, (ulong)group);
            var state = AllValid();

            NovaStateTranslation.Read(u.Memory, UtcbImage.Address, state, 0x30);

            Assert.AreEqual(0x30u, state.ExitReason);
            Assert.IsFalse(state.Fpu.Valid, $"{group}: fpu");
            foreach (var r in Registers)
            {
                Assert.AreEqual(r.Group == group, r.IsSet(state), $"{group}: {r} valid");
                if (r.Group != group) continue;
                var values = r.Values(state);
                for (var f = 0; f < r.Fields.Length; f++)
                    Assert.AreEqual(u.PatternValue(r.Fields[f].Offset, r.Fields[f].Size), values[f], $"{r} field {f}");
            }
        }
    }

    [TestMethod]
    public void Read_MtdWithoutGroups_LeavesEverythingInvalid_ButKeepsTheOldValues()
    {
        using var u = new UtcbImage();
        u.SetWord(0x20, (ulong)(Mtd.TscAux | Mtd.Xsave));
        var state = AllValid();

        NovaStateTranslation.Read(u.Memory, UtcbImage.Address, state, 0xfe);

        Assert.AreEqual(0xfeu, state.ExitReason);
        for (var i = 0; i < Registers.Length; i++)
        {
            Assert.IsFalse(Registers[i].IsSet(state), Registers[i].Name);
            var reference = new VmState();
            Registers[i].Set(reference, StateRegisters.Seed(i));
            CollectionAssert.AreEqual(Registers[i].Values(reference), Registers[i].Values(state), Registers[i].Name);
        }
        Assert.IsFalse(state.Fpu.Valid);
    }

    [TestMethod]
    public void Read_Fpu_TakesTheFxsaveRegionOfTheUtcbFpuArea()
    {
        using var u = new UtcbImage();
        u.SetWord(0x20, (ulong)Mtd.Fpu);
        var state = new VmState();

        NovaStateTranslation.Read(u.Memory, UtcbImage.Address, state, 0x0c);

        Assert.IsTrue(state.Fpu.Valid);
        CollectionAssert.AreEqual(u.Pattern.AsSpan(0x258, 512).ToArray(), state.Fpu.Bytes.ToArray());
    }

    [TestMethod]
    public void Write_EachRegisterAlone_SetsItsGroupBit_AndWritesEveryRegisterOfTheGroup_ButNeverQual()
    {
        for (var i = 0; i < Registers.Length; i++)
        {
            using var u = new UtcbImage();
            var state = AllValid();
            state.Clear();
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
    public void Write_NothingValid_ClearsItemsAndMtd_Only()
    {
        using var u = new UtcbImage();
        var state = AllValid();
        state.Clear();

        NovaStateTranslation.Write(u.Memory, UtcbImage.Address, state);

        var expected = (byte[])u.Pattern.Clone();
        UtcbImage.Put(expected, 0x00, 8, 0);
        UtcbImage.Put(expected, 0x20, 8, 0);
        CollectionAssert.AreEqual(expected, u.Page());
    }

    [TestMethod]
    public void Write_ValidFpu_GoesToTheFxsaveRegion_WithoutAnFpuBitInTheMtd()
    {
        using var u = new UtcbImage();
        var state = new VmState();
        state.Fpu.Value(static b => { for (var i = 0; i < b.Length; i++) b[i] = (byte)(i * 3 + 1); });

        NovaStateTranslation.Write(u.Memory, UtcbImage.Address, state);

        var expected = (byte[])u.Pattern.Clone();
        UtcbImage.Put(expected, 0x00, 8, 0);
        UtcbImage.Put(expected, 0x20, 8, 0);
        for (var i = 0; i < 512; i++) expected[0x258 + i] = (byte)(i * 3 + 1);
        CollectionAssert.AreEqual(expected, u.Page());
    }

    [TestMethod]
    public void Write_TscOffset_IsPassedAsIs_TogetherWithTheTscValue()
    {
        using var u = new UtcbImage();
        var state = new VmState();
        state.Tsc.SetValue(0x1111);
        state.Tsc.Invalidate();
        state.TscOffset.SetValue(0xFF00UL << 48);

        NovaStateTranslation.Write(u.Memory, UtcbImage.Address, state);

        Assert.AreEqual((ulong)Mtd.Tsc, u.Memory.Read(UtcbImage.Address + 0x20, 8));
        Assert.AreEqual(0x1111UL, u.Memory.Read(UtcbImage.Address + 0x238, 8));
        Assert.AreEqual(0xFF00UL << 48, u.Memory.Read(UtcbImage.Address + 0x240, 8));
    }
}
