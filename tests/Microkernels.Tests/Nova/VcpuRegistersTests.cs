using System.Buffers.Binary;
using Sim.Cpu;
using Sim.Microkernels.Nova;
using Sim.Vmx;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>The vCPU frame: what the hardware does not switch moves between processor and frame, the FPU as an XSAVE image.</summary>
[TestClass]
public sealed class VcpuRegistersTests
{
    [TestMethod]
    public void FpuImageHasTheStandardXsaveLayout()
    {
        using var m = new NovaVmxMachine();
        var cpu = m.Cpu;
        cpu.Xcr0 = 7;
        cpu.FpuControlWord = 0x027F;
        cpu.Mxcsr = 0x1F00;
        cpu.VectorRegister(0).Fill(0x11);
        cpu.VectorRegister(15).Fill(0xFF);
        var regs = new VcpuRegisters();
        regs.SaveFrom(cpu, svm: false);
        var image = regs.FpuImage;
        Assert.AreEqual(0x027F, BinaryPrimitives.ReadUInt16LittleEndian(image));
        Assert.AreEqual(0x1F00u, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(24)), "MXCSR at byte 24");
        Assert.AreEqual(0xFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(28)), "MXCSR_MASK at byte 28");
        Assert.AreEqual(0x11, image[160], "XMM0 at byte 160");
        Assert.AreEqual(0xFF, image[160 + 15 * 16], "XMM15");
        Assert.AreEqual(0x11, image[576], "YMM0[255:128] at byte 576 (CPUID.(EAX=0DH,ECX=2):EBX)");
        Assert.AreEqual(0xFF, image[576 + 15 * 16 + 15]);
        Assert.AreEqual(7UL, BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(512)) & 7, "XSTATE_BV: x87, SSE and AVX in use");
        Assert.AreEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(520)), "XCOMP_BV 0: standard format");
    }

    [TestMethod]
    public void TwoVcpusKeepTheirOwnRegistersOnOneProcessor()
    {
        using var m = new NovaVmxMachine();
        var cpu = m.Cpu;
        var a = new VcpuRegisters { Rbx = 0xA, R15 = 0xA15, Cr2 = 0xA2, Xcr0 = 7, TscAux = 1 };
        var b = new VcpuRegisters { Rbx = 0xB, R15 = 0xB15, Cr2 = 0xB2, Xcr0 = 3, TscAux = 2 };
        a.LoadInto(cpu, svm: false);
        cpu.VectorRegister(3).Fill(0xAA);
        cpu.FpuControlWord = 0x0A7F;
        a.SaveFrom(cpu, svm: false);
        b.LoadInto(cpu, svm: false);
        Assert.AreEqual(0xBUL, cpu.Rbx);
        Assert.AreEqual(0xB15UL, cpu.GetGpr(15));
        Assert.AreEqual(0xB2UL, cpu.Cr2);
        Assert.AreEqual(3UL, cpu.Xcr0);
        Assert.AreEqual(2UL, cpu.TscAux);
        Assert.AreEqual(0, cpu.VectorRegister(3)[0], "b's FPU state is the initial one");
        Assert.AreEqual(0x037F, cpu.FpuControlWord);
        Assert.AreEqual(0x1F80u, cpu.Mxcsr);
        b.SaveFrom(cpu, svm: false);
        a.LoadInto(cpu, svm: false);
        Assert.AreEqual(0xAA, cpu.VectorRegister(3)[31]);
        Assert.AreEqual(0x0A7F, cpu.FpuControlWord);
        Assert.AreEqual(0xA15UL, cpu.GetGpr(15));
    }

    [TestMethod]
    public void SvmLeavesRaxAndCr2ToTheVmcb()
    {
        using var m = new NovaVmxMachine();
        var cpu = m.Cpu;
        cpu.Rax = 0x1234;
        cpu.Cr2 = 0x5678;
        var regs = new VcpuRegisters { Rax = 0xAAAA, Cr2 = 0xCCCC };
        regs.LoadInto(cpu, svm: true);
        Assert.AreEqual(0x1234UL, cpu.Rax);
        Assert.AreEqual(0x5678UL, cpu.Cr2);
        cpu.Rax = 0x9999;
        regs.SaveFrom(cpu, svm: true);
        Assert.AreEqual(0xAAAAUL, regs.Rax);
        Assert.AreEqual(0xCCCCUL, regs.Cr2);
    }

    [TestMethod]
    public void RestoreRejectsAReservedMxcsrBit()
    {
        using var m = new NovaVmxMachine();
        var image = new byte[Processor.XsaveAreaMaxBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 0x1_0000);
        Assert.IsFalse(m.Cpu.RestoreXsaveImage(image, 7));
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(520), 1UL << 63);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(24), 0x1F80);
        Assert.IsFalse(m.Cpu.RestoreXsaveImage(image, 7), "compacted format");
        Assert.AreEqual(0, m.Cpu.SaveXsaveImage(new byte[100], 7), "area too small");
    }

    [TestMethod]
    public void VmcsIsCreatedTheWayNovaDoes()
    {
        using var m = new NovaVmxMachine();
        Assert.AreEqual((ulong)(PinBasedControls.Default1 | PinBasedControls.ExternalInterruptExiting | PinBasedControls.NmiExiting | PinBasedControls.VirtualNmis),
            m.Read(VmcsField.PinBasedVmExecutionControls));
        var exit = m.Read(VmcsField.VmExitControls);
        foreach (var bit in new[] { VmExitControls.HostAddressSpaceSize, VmExitControls.AcknowledgeInterruptOnExit, VmExitControls.SaveIa32Efer, VmExitControls.LoadIa32Efer })
            Assert.AreNotEqual(0UL, exit & bit);
        Assert.AreNotEqual(0UL, m.Read(VmcsField.VmEntryControls) & VmEntryControls.LoadIa32Efer);
        Assert.AreEqual(0UL, m.Read(VmcsField.VmEntryControls) & VmEntryControls.Ia32eModeGuest);
        Assert.AreEqual(NovaVmxMachine.EptPml4 | 0x1E, m.Read(VmcsField.EptPointer), "write-back, 4-level walk");
        Assert.AreEqual(1UL, m.Read(VmcsField.VirtualProcessorIdentifier));
        Assert.AreEqual(ulong.MaxValue, m.Read(VmcsField.VmcsLinkPointer));
        Assert.AreEqual(NovaVmxMachine.HostCr0 | 8, m.Read(VmcsField.HostCr0), "NOVA's host CR0 has TS set");
        Assert.AreEqual(NovaVmxMachine.HostCode, m.Read(VmcsField.HostRip));
        Assert.AreEqual(NovaVmxMachine.HostStack, m.Read(VmcsField.HostRsp));
        Assert.AreEqual(1UL << 17, m.Read(VmcsField.ExceptionBitmap), "#AC only: nested paging and an eager FPU");
        Assert.AreEqual(5UL, m.Read(VmcsField.VmExitMsrStoreCount));
        Assert.AreEqual(NovaVmxMachine.Pages.GuestMsrArea, m.Read(VmcsField.VmEntryMsrLoadAddress));
        Assert.AreEqual(NovaVmxMachine.Pages.HostMsrArea, m.Read(VmcsField.VmExitMsrLoadAddress));
        Assert.AreEqual(0x20UL, m.Read(VmcsField.GuestCr0), "nst_ctrl leaves CR0 = NE");
        Assert.AreEqual(0x2000UL, m.Read(VmcsField.GuestCr4), "and CR4 = VMXE");
        var msrBitmap = NovaVmxMachine.Pages.MsrBitmap;
        Assert.AreEqual(0xF8UL, m.Memory.Read(msrBitmap + 1024 + 0x20, 1), "FS_BASE, GS_BASE, KERNEL_GS_BASE reads pass (bits 0-2 of C000_0100H)");
        Assert.AreEqual(0xF8UL, m.Memory.Read(msrBitmap + 3072 + 0x20, 1));
        Assert.AreEqual(0xFFUL, m.Memory.Read(msrBitmap + 1024 + 0x10, 1), "STAR (C000_0081H) is intercepted");
    }
}
