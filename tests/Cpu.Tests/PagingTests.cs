using Iced.Intel;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Microkernels.Kernel.PageTableBuilder;

namespace Sim.Cpu.Tests;

/// <summary>Paging (SDM vol. 3, chapter 4): translation, access rights, #PF error codes, A/D flags and TLB invalidation.</summary>
[TestClass]
public sealed class PagingTests
{
    private const ulong Test = 0x400000;
    private const uint PfP = 1, PfW = 2, PfU = 4, PfRsvd = 8, PfId = 16;

    /// <summary>Identity-maps the low MiB (code, tables, stubs, stacks) and runs <paramref name="code"/> at CPL 0.</summary>
    private static GuestRunner Paged(PagingMode mode, Action<PageTableBuilder> map, Action<Assembler> code,
        ulong cr0 = Cr0.WP, ulong cr4 = 0, ulong efer = 0, ulong lowFlags = RW)
    {
        var g = new GuestRunner();
        var bits = mode == PagingMode.FourLevel ? 64 : 32;
        var t = new PageTableBuilder(g.Memory, mode);
        t.IdentityMap(0, 0x100000, lowFlags);
        map(t);
        g.Code(bits, GuestRunner.CodeAddress, code);
        g.StartPaged(GuestRunner.CodeAddress, t, cr0, cr4, efer);
        g.InstallIdt(bits);
        return g;
    }

    private static void Exit(Assembler a)
    {
        a.mov(al, 0);
        a.@out(0xF4, al);
        a.hlt();
    }

    private static void Finishes(GuestRunner g)
    {
        Assert.AreEqual(StopReason.StopRequested, g.Run(), $"RIP={g.Cpu.Rip:x} pending={g.Cpu.PendingException}");
    }

    private static void PageFault(GuestRunner g, uint errorCode, ulong cr2)
    {
        Assert.AreEqual(ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(errorCode, (uint)g.Stack(0, g.Cpu.CodeBitness == 64 ? 8 : 4), "error code");
        Assert.AreEqual(cr2, g.Cpu.Cr2, "CR2");
    }

    [TestMethod]
    [DataRow(PagingMode.Bits32)]
    [DataRow(PagingMode.Pae)]
    [DataRow(PagingMode.FourLevel)]
    public void FourKiBPageTranslatesAndSetsAccessedAndDirtyInTheRightEntries_4_8(PagingMode mode)
    {
        PageTableBuilder? tables = null;
        using var g = Paged(mode, t =>
        {
            tables = t;
            t.Map(Test, 0x500000, RW);
            t.Map(Test + 0x1000, 0x501000, RW);
        }, a =>
        {
            a.mov(ebx, (uint)Test);
            if (mode == PagingMode.FourLevel) { a.mov(__dword_ptr[rbx + 0x10], 0x1234); a.mov(esi, __dword_ptr[rbx + 0x1000]); }
            else { a.mov(__dword_ptr[ebx + 0x10], 0x1234); a.mov(esi, __dword_ptr[ebx + 0x1000]); }
            Exit(a);
        });
        g.Memory.Write(0x501000, 4, 0xCAFE);
        Finishes(g);
        Assert.AreEqual(0x1234UL, g.Memory.Read(0x500010, 4));
        Assert.AreEqual(0xCAFEUL, g.Cpu.Rsi);
        var levels = mode switch { PagingMode.Bits32 => 2, PagingMode.Pae => 2, _ => 4 };
        // 4.8: the processor sets A in every paging-structure entry used, D only in the entry that maps the page.
        Assert.AreEqual(A | D, tables!.Read(Test, 1) & (A | D), "PTE of written page");
        Assert.AreEqual(A, tables.Read(Test + 0x1000, 1) & (A | D), "PTE of read page");
        for (var l = 2; l <= levels; l++) Assert.AreEqual(A, tables.Read(Test, l) & (A | D), $"level {l}");
    }

    [TestMethod]
    public void Pse4MiBPageUsesPdeAndSetsItsDirtyFlag_4_3()
    {
        PageTableBuilder? tables = null;
        using var g = Paged(PagingMode.Bits32, t => { tables = t; t.MapLarge(0x800000, 0xC00000, RW); }, a =>
        {
            a.mov(ebx, 0x812344);
            a.mov(__dword_ptr[ebx], 0x55AA);
            Exit(a);
        });
        Finishes(g);
        Assert.AreEqual(0x55AAUL, g.Memory.Read(0xC12344, 4));
        Assert.AreEqual(A | D, tables!.Read(0x800000, 2) & (A | D));
    }

    [TestMethod]
    public void PaeTwoMiBAndFourLevelOneGiBPages_4_4_4_5()
    {
        using (var g = Paged(PagingMode.Pae, t => t.MapLarge(0x800000, 0xA00000, RW), a =>
        {
            a.mov(ebx, 0x8FFFF0);
            a.mov(__dword_ptr[ebx], 0x77);
            Exit(a);
        }))
        {
            Finishes(g);
            Assert.AreEqual(0x77UL, g.Memory.Read(0xAFFFF0, 4));
        }
        using (var g = Paged(PagingMode.FourLevel, t => t.MapLarge(0x40000000, 0, RW, level: 3), a =>
        {
            a.mov(rbx, 0x40000000 + 0xC00004);
            a.mov(__dword_ptr[rbx], 0x66);
            Exit(a);
        }))
        {
            Finishes(g);
            Assert.AreEqual(0x66UL, g.Memory.Read(0xC00004, 4));
        }
    }

    [TestMethod]
    [DataRow(PagingMode.Bits32)]
    [DataRow(PagingMode.Pae)]
    [DataRow(PagingMode.FourLevel)]
    public void NotPresentReadAndWriteFault_4_7(PagingMode mode)
    {
        foreach (var write in new[] { false, true })
        {
            using var g = Paged(mode, _ => { }, a =>
            {
                a.mov(ebx, (uint)Test + 0x123);
                if (mode == PagingMode.FourLevel)
                {
                    if (write) a.mov(__dword_ptr[rbx], eax); else a.mov(eax, __dword_ptr[rbx]);
                }
                else if (write) a.mov(__dword_ptr[ebx], eax); else a.mov(eax, __dword_ptr[ebx]);
                Exit(a);
            });
            PageFault(g, write ? PfW : 0, Test + 0x123);
        }
    }

    [TestMethod]
    public void WriteToReadOnlyPageAtCpl0FaultsOnlyWithWp_4_6()
    {
        using (var g = Paged(PagingMode.Pae, t => t.Map(Test, 0x500000, 0), a =>
        {
            a.mov(ebx, (uint)Test);
            a.mov(__dword_ptr[ebx], 1);
            Exit(a);
        }, cr0: Cr0.WP))
        {
            PageFault(g, PfP | PfW, Test);
        }
        using (var g = Paged(PagingMode.Pae, t => t.Map(Test, 0x500000, 0), a =>
        {
            a.mov(ebx, (uint)Test);
            a.mov(__dword_ptr[ebx], 1);
            Exit(a);
        }, cr0: 0))
        {
            Finishes(g);
            Assert.AreEqual(1UL, g.Memory.Read(0x500000, 4));
        }
    }

    /// <summary>CPL 3 code in user pages, with a TSS so that the #PF handler runs at CPL 0.</summary>
    private static GuestRunner User(PagingMode mode, Action<PageTableBuilder> map, Action<Assembler> code)
    {
        var g = Paged(mode, t =>
        {
            t.Map(GuestRunner.CodeAddress, GuestRunner.CodeAddress, RW | US);
            t.Map(0x7F000, 0x7F000, RW | US);
            map(t);
        }, code);
        g.AddUserSegmentsAndTss32();
        g.EnterUser32(GuestRunner.CodeAddress, 0x80000);
        return g;
    }

    [TestMethod]
    public void UserAccessToSupervisorPageFaultsWithUsBit_4_6()
    {
        using (var g = User(PagingMode.Bits32, t => t.Map(Test, 0x500000, RW), a =>
        {
            a.mov(ebx, (uint)Test + 8);
            a.mov(eax, __dword_ptr[ebx]);
            a.hlt();
        }))
        {
            PageFault(g, PfP | PfU, Test + 8);
            // 6.12.1: the privilege change pushes SS:ESP of CPL 3 above EFLAGS, CS, EIP and the error code.
            Assert.AreEqual((ulong)GuestRunner.UserCode, g.Stack(2) & 0xFFFF);
            Assert.AreEqual((ulong)GuestRunner.UserData, g.Stack(5) & 0xFFFF);
            Assert.AreEqual(0x80000UL, g.Stack(4));
        }
        using (var g = User(PagingMode.Pae, t => t.Map(Test, 0x500000, US), a =>
        {
            a.mov(ebx, (uint)Test + 8);
            a.mov(__dword_ptr[ebx], eax);
            a.hlt();
        }))
        {
            PageFault(g, PfP | PfU | PfW, Test + 8);
        }
    }

    [TestMethod]
    public void NoExecuteFetchFaultsWithInstructionFetchBit_4_6_4_7()
    {
        using var g = Paged(PagingMode.Pae, t => t.Map(Test, 0x500000, RW | NX), a =>
        {
            a.mov(eax, (uint)Test);
            a.jmp(eax);
        }, efer: Efer.NXE);
        g.Memory.Write(0x500000, 1, 0x90);
        PageFault(g, PfP | PfId, Test);
        Assert.AreEqual(Test, g.Stack(1), "the saved EIP is the faulting fetch");
    }

    [TestMethod]
    public void FetchFaultHasNoInstructionFetchBitWith32BitPaging_4_7()
    {
        // 4.7: I/D is set only if SMEP is on, or NXE is on with PAE or 4-level paging (32-bit paging has no XD).
        using var g = Paged(PagingMode.Bits32, _ => { }, a =>
        {
            a.mov(eax, (uint)Test);
            a.jmp(eax);
        }, efer: Efer.NXE);
        PageFault(g, 0, Test);
    }

    [TestMethod]
    public void ExecuteDisableBitIsReservedWithoutNxe_4_4_2()
    {
        using var g = Paged(PagingMode.Pae, t => t.Map(Test, 0x500000, RW | NX), a =>
        {
            a.mov(ebx, (uint)Test);
            a.mov(eax, __dword_ptr[ebx]);
            Exit(a);
        });
        PageFault(g, PfP | PfRsvd, Test);
    }

    [TestMethod]
    public void PaeBitsAboveMaxPhysAddrAreReserved_4_4_2()
    {
        // Table 4-11: bits 62:MAXPHYADDR of a PAE PTE are reserved (unlike 4-level paging, where 62:52 are ignored).
        using var g = Paged(PagingMode.Pae, t => t.Map(Test, 0x500000 | (1UL << 55), RW), a =>
        {
            a.mov(ebx, (uint)Test);
            a.mov(eax, __dword_ptr[ebx]);
            Exit(a);
        });
        PageFault(g, PfP | PfRsvd, Test);
    }

    [TestMethod]
    public void FourLevelAddressBitAboveMaxPhysAddrIsReservedButBit52IsIgnored_4_5_4()
    {
        using (var g = Paged(PagingMode.FourLevel, t => t.Map(Test, 0x500000 | (1UL << Processor.MaxPhysicalAddressBits), RW), a =>
        {
            a.mov(rbx, Test);
            a.mov(eax, __dword_ptr[rbx]);
            Exit(a);
        }))
        {
            PageFault(g, PfP | PfRsvd, Test);
        }
        using (var g = Paged(PagingMode.FourLevel, t => t.Map(Test, 0x500000 | (1UL << 52), RW), a =>
        {
            a.mov(rbx, Test);
            a.mov(eax, __dword_ptr[rbx]);
            Exit(a);
        }))
        {
            Finishes(g);
        }
    }

    [TestMethod]
    public void SmepFaultsSupervisorFetchFromUserPage_4_6_1()
    {
        using var g = Paged(PagingMode.FourLevel, t => t.Map(Test, 0x500000, RW | US), a =>
        {
            a.mov(rax, Test);
            a.jmp(rax);
        }, cr4: Cr4.SMEP);
        g.Memory.Write(0x500000, 1, 0x90);
        PageFault(g, PfP | PfId, Test);
    }

    [TestMethod]
    public void SmapFaultsSupervisorDataAccessToUserPageUnlessAcIsSet_4_6_1()
    {
        using (var g = Paged(PagingMode.FourLevel, t => t.Map(Test, 0x500000, RW | US), a =>
        {
            a.mov(rbx, Test);
            a.mov(eax, __dword_ptr[rbx]);
            Exit(a);
        }, cr4: Cr4.SMAP))
        {
            PageFault(g, PfP, Test);
        }
        using (var g = Paged(PagingMode.FourLevel, t => t.Map(Test, 0x500000, RW | US), a =>
        {
            a.mov(rbx, Test);
            a.stac();
            a.mov(__dword_ptr[rbx], 0x99);
            a.clac();
            a.mov(eax, __dword_ptr[rbx]);
            Exit(a);
        }, cr4: Cr4.SMAP))
        {
            PageFault(g, PfP, Test);
            Assert.AreEqual(0x99UL, g.Memory.Read(0x500000, 4), "the write with AC=1 was allowed");
        }
    }

    [TestMethod]
    public void StacAndClacRaiseUdAtCpl3_SdmVol2()
    {
        using var g = User(PagingMode.Bits32, _ => { }, a =>
        {
            a.stac();
            a.hlt();
        });
        g.Cpu.LoadControlState(g.Cpu.Cr0, g.Cpu.Cr3, g.Cpu.Cr4 | Cr4.SMAP, 0);
        Assert.AreEqual(ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void InvlpgAndMovCr3MakeAChangedPteVisible_4_10_4_1(bool useCr3)
    {
        PageTableBuilder? tables = null;
        using var g = Paged(PagingMode.Pae, t => { tables = t; t.Map(Test, 0x500000, RW); t.IdentityMap(0x200000, 0x10000, RW); }, a =>
        {
            a.mov(ebx, (uint)Test);
            a.mov(esi, __dword_ptr[ebx]);
            // The guest remaps the page to 0x501000 by rewriting the PTE.
            a.mov(edx, 0);
            a.mov(ecx, (uint)tables!.EntryAddress(Test, 1));
            a.mov(__dword_ptr[ecx], 0x501003);
            if (useCr3) { a.mov(eax, cr3); a.mov(cr3, eax); }
            else a.invlpg(__byte_ptr[ebx]);
            a.mov(edi, __dword_ptr[ebx]);
            Exit(a);
        });
        g.Memory.Write(0x500000, 4, 0x1111);
        g.Memory.Write(0x501000, 4, 0x2222);
        Finishes(g);
        Assert.AreEqual(0x1111UL, g.Cpu.Rsi);
        Assert.AreEqual(0x2222UL, g.Cpu.Rdi);
    }
}
