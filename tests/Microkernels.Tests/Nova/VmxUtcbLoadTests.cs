using System.Buffers.Binary;
using Sim.Microkernels.Nova;
using Sim.Vmx;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// load_vmx, one MTD bit at a time: known guest state in the VMCS and the frame, then every byte of the UTCB page is
/// compared with what NOVA's load_vmx writes for that bit (alex-ab/NOVA r10 src/utcb.cpp, offsets of the NH utcb.hpp
/// written out here as numbers), the always-written exit_value, mtd and items, and the untouched fill elsewhere.
/// </summary>
[TestClass]
public sealed class VmxUtcbLoadTests
{
    private const ulong HostTsc = 0x0123_4567_89AB_CDEF;
    private static readonly uint[] SegmentAr = [0x0C093, 0x0A09B, 0x1C093, 0x0C0F3, 0x04093, 0x1F0FF, 0x10082, 0x0008B];

    private static NovaVmxMachine Machine()
    {
        var m = new NovaVmxMachine();
        var r = m.Regs;
        r.Rax = 0xA0; r.Rcx = 0xC0; r.Rdx = 0xD0; r.Rbx = 0xB0; r.Rbp = 0xB9; r.Rsi = 0x51; r.Rdi = 0xD1;
        r.R8 = 0x808; r.R9 = 0x909; r.R10 = 0x1010; r.R11 = 0x1111; r.R12 = 0x1212; r.R13 = 0x1313; r.R14 = 0x1414; r.R15 = 0x1515;
        r.Cr2 = 0xCC22_0000;
        r.Cr0Shadow = 0x8000_0011;
        r.Cr4Shadow = 0x20;
        r.TscOffset = 0xFFFF_FFFF_FFFF_F000;
        r.TscAux = 0x77;
        r.Xcr0 = 7;
        r.Xss = 0;
        r.DstPortal = 10;
        m.Write(VmcsField.GuestRsp, 0x7000_0000_0104);
        m.Write(VmcsField.GuestRip, 0xFFFF_8000_0000_1234);
        m.Write(VmcsField.GuestRflags, 0x246);
        for (var i = 0; i < 8; i++)
        {
            m.Write((VmcsField)((uint)VmcsField.GuestEsSelector + 2 * (uint)i), 0x100 + (ulong)i);
            m.Write((VmcsField)((uint)VmcsField.GuestEsBase + 2 * (uint)i), 0x1234_0000_0000 | (ulong)i << 12);
            m.Write((VmcsField)((uint)VmcsField.GuestEsLimit + 2 * (uint)i), 0xF_0000 + (ulong)i);
            m.Write((VmcsField)((uint)VmcsField.GuestEsAccessRights + 2 * (uint)i), SegmentAr[i]);
        }
        m.Write(VmcsField.GuestGdtrBase, 0xFFFF_8000_0010_0000);
        m.Write(VmcsField.GuestGdtrLimit, 0x7F);
        m.Write(VmcsField.GuestIdtrBase, 0xFFFF_8000_0020_0000);
        m.Write(VmcsField.GuestIdtrLimit, 0xFFF);
        m.Write(VmcsField.GuestCr0, 0x8000_0031);
        m.Write(VmcsField.GuestCr3, 0x12_3000);
        m.Write(VmcsField.GuestCr4, 0x2020);
        m.Write(VmcsField.GuestDr7, 0x401);
        m.Write(VmcsField.GuestIa32SysenterCs, 0x18);
        m.Write(VmcsField.GuestIa32SysenterEsp, 0xE5E5);
        m.Write(VmcsField.GuestIa32SysenterEip, 0xE1E1);
        m.Write(VmcsField.GuestIa32Efer, 0xD01);
        m.Write(VmcsField.GuestPdpte0, 0x1001);
        m.Write(VmcsField.GuestPdpte1, 0x2001);
        m.Write(VmcsField.GuestPdpte2, 0x3001);
        m.Write(VmcsField.GuestPdpte3, 0x4001);
        m.Write(VmcsField.GuestInterruptibilityState, 1);
        m.Write(VmcsField.GuestActivityState, 1);
        m.Write(VmcsField.VmEntryInterruptionInformation, 0x8000_0B0E);
        m.Write(VmcsField.VmEntryExceptionErrorCode, 2);
        m.Write(VmcsField.TprThreshold, 3);
        for (var i = 0; i < 5; i++) m.Memory.Write(NovaVmxMachine.Pages.GuestMsrArea + 16 * (ulong)i + 8, 8, 0x5A00 + (ulong)i);
        m.Memory.Write(NovaVmxMachine.Pages.VirtualApic + 0x80, 4, 0x50);
        return m;
    }

    private sealed class Expected
    {
        public readonly byte[] Page = Enumerable.Repeat(NovaVmxMachine.Fill, 4096).ToArray();
        public void U64(int offset, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Page.AsSpan(offset), v);
        public void U32(int offset, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Page.AsSpan(offset), v);
        public void U16(int offset, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Page.AsSpan(offset), v);

        /// <summary>A Utcb_segment: sel, AR in the compact form of genode-vm-abi.md §1.5, limit, base.</summary>
        public void Segment(int offset, int vmcsIndex)
        {
            var ar = SegmentAr[vmcsIndex];
            U16(offset, (ushort)(0x100 + vmcsIndex));
            U16(offset + 2, (ushort)(((ar & 0x1F000) >> 4) | (ar & 0xFF)));
            U32(offset + 4, 0xF_0000 + (uint)vmcsIndex);
            U64(offset + 8, 0x1234_0000_0000 | (ulong)vmcsIndex << 12);
        }
    }

    private static void Compare(byte[] expected, byte[] actual)
    {
        for (var i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], $"UTCB byte {i:x3}");
    }

    [TestMethod]
    [DataRow(0)][DataRow(1)][DataRow(2)][DataRow(3)][DataRow(4)][DataRow(5)][DataRow(6)][DataRow(7)]
    [DataRow(8)][DataRow(9)][DataRow(10)][DataRow(11)][DataRow(12)][DataRow(13)][DataRow(14)][DataRow(15)]
    [DataRow(16)][DataRow(17)][DataRow(18)][DataRow(19)][DataRow(20)][DataRow(21)][DataRow(22)][DataRow(23)]
    [DataRow(24)][DataRow(25)][DataRow(26)][DataRow(31)]
    public void OneBitWritesExactlyItsFields(int bit)
    {
        using var m = Machine();
        var mtd = (Mtd)(1u << bit);
        var e = new Expected();
        switch (bit)
        {
            case 0: e.U64(0x50, 0xA0); e.U64(0x58, 0xC0); e.U64(0x60, 0xD0); e.U64(0x68, 0xB0); break;
            case 1: e.U64(0x78, 0xB9); e.U64(0x80, 0x51); e.U64(0x88, 0xD1); break;
            case 2: e.U64(0x70, 0x7000_0000_0104); break;
            case 3: e.U64(0x30, 0xFFFF_8000_0000_1234); e.U64(0x28, 0); break;
            case 4: e.U64(0x38, 0x246); break;
            case 5: e.Segment(0x1C8, 3); e.Segment(0x198, 0); break;
            case 6: e.Segment(0x1D8, 4); e.Segment(0x1E8, 5); break;
            case 7: e.Segment(0x1A8, 1); e.Segment(0x1B8, 2); break;
            case 8: e.Segment(0x208, 7); break;
            case 9: e.Segment(0x1F8, 6); break;
            case 10: e.U32(0x218, 0); e.U32(0x21C, 0x7F); e.U64(0x220, 0xFFFF_8000_0010_0000); break;
            case 11: e.U32(0x228, 0); e.U32(0x22C, 0xFFF); e.U64(0x230, 0xFFFF_8000_0020_0000); break;
            case 12:
                // CR0: NE is owned by the host (IA32_VMX_CR0_FIXED0), so the guest sees its read shadow's NE (0); CD/NW likewise.
                e.U64(0xE8, 0x8000_0011); e.U64(0xF0, 0xCC22_0000); e.U64(0xF8, 0x12_3000); e.U64(0x100, 0x20);
                break;
            case 13: e.U64(0x178, 0x401); break;
            case 14: e.U64(0x180, 0x18); e.U64(0x188, 0xE5E5); e.U64(0x190, 0xE1E1); break;
            case 15: e.U64(0xD0, 0); e.U64(0xD8, 0); break;
            case 16: break;
            case 17: e.U32(0x48, 0); e.U32(0x4C, 0); break;
            case 18: e.U32(0x40, 1); e.U32(0x44, 1); break;
            case 19: e.U64(0x238, HostTsc); e.U64(0x240, 0xFFFF_FFFF_FFFF_F000); break;
            case 20: e.U64(0x140, 0xD01); break;
            case 21: e.U64(0x118, 0x1001); e.U64(0x120, 0x2001); e.U64(0x128, 0x3001); e.U64(0x130, 0x4001); break;
            case 22: for (var i = 0; i < 8; i++) e.U64(0x90 + 8 * i, new ulong[] { 0x808, 0x909, 0x1010, 0x1111, 0x1212, 0x1313, 0x1414, 0x1515 }[i]); break;
            case 23: for (var i = 0; i < 5; i++) e.U64(0x148 + 8 * i, 0x5A00 + (ulong)i); break;
            case 24: e.U32(0x170, 0x50); e.U32(0x174, 3); break;
            case 25: e.U64(0x248, 0x77); break;
            case 26: e.U64(0x108, 7); e.U64(0x110, 0); break;
            case 31: m.Regs.FpuImage.CopyTo(e.Page, 0x258); break;
        }
        e.U64(0x00, 508);
        e.U64(0x20, 1u << bit);
        e.U64(0x250, 10);
        VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, NovaVmxMachine.Utcb, mtd, HostTsc);
        Compare(e.Page, m.UtcbBytes());
    }

    [TestMethod]
    public void InjectionComesFromTheEntryFieldsOnRecallAndInvalidState()
    {
        foreach (var portal in new uint[] { 0xFF, 33 })
        {
            using var m = Machine();
            m.Regs.DstPortal = portal;
            VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, NovaVmxMachine.Utcb, Mtd.Inj, HostTsc);
            Assert.AreEqual(0x8000_0B0EUL, m.Memory.Read(NovaVmxMachine.Utcb + 0x48, 4));
            Assert.AreEqual(2UL, m.Memory.Read(NovaVmxMachine.Utcb + 0x4C, 4));
            Assert.AreEqual(portal, m.Memory.Read(NovaVmxMachine.Utcb + 0x250, 8));
        }
    }

    [TestMethod]
    public void QualificationOfAnEptViolationComesFromTheFrame()
    {
        using var m = Machine();
        m.Regs.DstPortal = 48;
        m.Regs.NstError = 0x181;
        m.Regs.NstFault = 0xFEE0_0000;
        VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, NovaVmxMachine.Utcb, Mtd.Qual, HostTsc);
        Assert.AreEqual(0x181UL, m.Memory.Read(NovaVmxMachine.Utcb + 0xD0, 8));
        Assert.AreEqual(0xFEE0_0000UL, m.Memory.Read(NovaVmxMachine.Utcb + 0xD8, 8));
    }

    [TestMethod]
    public void ControlsAreNeverFilledOnExit()
    {
        using var m = Machine();
        VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, NovaVmxMachine.Utcb, (Mtd)0x87FF_FFFF, HostTsc);
        Assert.AreEqual(0xA5A5_A5A5_A5A5_A5A5UL, m.Memory.Read(NovaVmxMachine.Utcb + 0xE0, 8));
    }

    [TestMethod]
    public void WordCountCoversEveryGroup()
    {
        using var m = Machine();
        var none = VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, NovaVmxMachine.Utcb, Mtd.None, HostTsc);
        var acdb = VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, NovaVmxMachine.Utcb, Mtd.GprAcdb, HostTsc);
        Assert.AreEqual(3, none);
        Assert.AreEqual(7, acdb);
    }

    [TestMethod]
    public void AccessRightsConvertBothWays()
    {
        Assert.AreEqual((ushort)0xA9B, VmxStateTransfer.CompactAr(0xA09B));
        Assert.AreEqual((ushort)0xC93, VmxStateTransfer.CompactAr(0xC093));
        Assert.AreEqual((ushort)0x1000, VmxStateTransfer.CompactAr(0x10000));
        Assert.AreEqual(0xA09Bu, VmxStateTransfer.IntelAr(0xA9B));
        Assert.AreEqual(0x1C093u, VmxStateTransfer.IntelAr(0x1C93));
        Assert.AreEqual(0x10000u, VmxStateTransfer.IntelAr(0x1000));
    }
}
