using Iced.Intel;
using Sim.Images;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Fuzz.Cases;

/// <summary>
/// Random code in one processor mode. A prolog sets up the guest's own GDT, IDT, TSS and (at random)
/// paging, then enters the code through the handler that every vector leads to; the handler counts,
/// resets the stack and resumes the code at one of its random points, so execution keeps going
/// through faults, interrupts and software interrupts.
/// </summary>
internal static class ModeGuest
{
    /// <summary>
    /// A guest of <paramref name="kind"/>; with <paramref name="devices"/>, it runs device accesses
    /// (<see cref="DeviceCode"/>: ports, or memory when false) in the mode of <paramref name="kind"/> instead of random code.
    /// </summary>
    public static FuzzProgram Generate(FuzzKind kind, Random rng, FuzzSettings settings, bool? devices = null)
    {
        var b = new GuestBuilder(rng);
        var user = rng.Next(3) == 0;
        var length = rng.Next(0x400, 0x4000);
        var memory = RandomMemory(rng);
        void AddCode(int bits, bool linear)
        {
            if (devices is { } ports)
            {
                var (code, boundaries) = DeviceCode.Generate(rng, bits, rng.Next(64, 512), ports, memory, settings);
                b.AddCode(code, boundaries, linear);
                length = code.Length;
            }
            else
            {
                b.AddRandomCode(bits, linear, length);
            }
        }
        EntryState entry;
        string paging = "no paging";
        switch (kind)
        {
            case FuzzKind.RealMode:
                AddCode(16, linear: false);
                b.AddIvt();
                b.Add(FuzzLayout.Handler16, 16, a => Handler16(a, b.RandomFlags()));
                b.Add(FuzzLayout.Prolog, 16, a =>
                {
                    a.cli();
                    a.xor(ax, ax);
                    a.mov(ss, ax);
                    a.mov(sp, FuzzLayout.RealModeStack);
                    a.jmp(0, (uint)FuzzLayout.Handler16);
                });
                user = false;
                entry = new RealModeEntry((ushort)(FuzzLayout.Prolog >> 4), 0, 0x80);
                break;
            case FuzzKind.ProtectedMode16 or FuzzKind.ProtectedMode32 or FuzzKind.Virtual8086:
                if (kind == FuzzKind.Virtual8086) user = true;
                var bits = kind == FuzzKind.ProtectedMode32 ? 32 : 16;
                AddCode(bits, linear: bits == 32);
                b.AddGdt(tss64: false);
                b.AddIdt(FuzzLayout.Idt, long64: false, FuzzLayout.Handler32, FuzzLayout.Code32, allow16: bits == 16);
                b.AddTss(tss64: false);
                b.AddDescriptorTableRegisters(8);
                var (root, cr4Bits, name) = rng.Next(3) switch
                {
                    0 => (0UL, 0UL, "no paging"),
                    1 => (b.AddPageTables32(user), 0x10UL, "32-bit paging"),
                    _ => (b.AddPaePageTables(user), 0x20UL, "PAE paging"),
                };
                paging = name;
                var flags = b.RandomFlags(vm: kind == FuzzKind.Virtual8086);
                b.Add(FuzzLayout.Handler32, 32, a => Handler32(a, kind, user, flags));
                b.Add(FuzzLayout.Prolog, 32, a => Prolog32(a, root, cr4Bits | RandomCr4(rng, user)));
                entry = new ProtectedModeEntry((uint)FuzzLayout.Prolog, 0, 0);
                break;
            default:
                var compat = kind == FuzzKind.CompatibilityMode;
                AddCode(compat ? 32 : 64, linear: true);
                b.AddGdt(tss64: true);
                b.AddIdt(FuzzLayout.Idt, long64: true, FuzzLayout.Handler64, FuzzLayout.Code64, allow16: false);
                b.AddTss(tss64: true);
                b.AddDescriptorTableRegisters(16);
                var pml4 = b.AddLongModePageTables(user);
                paging = "4-level paging";
                var rflags = b.RandomFlags();
                b.Add(FuzzLayout.Handler64, 64, a => Handler64(a, CodeSelector(compat, user), user, rflags));
                b.Add(FuzzLayout.Prolog, 64, a => Prolog64(a, pml4, RandomCr4(rng, user)));
                entry = new LongModeEntry(FuzzLayout.Prolog, 0, 0);
                break;
        }
        return new FuzzProgram
        {
            Description = $"{(devices is { } p ? (p ? "PortIo in " : "Mmio in ") : "")}{kind}, {(user ? "CPL 3" : "CPL 0")}, {paging}, {length} bytes of {(devices != null ? "device accesses" : "random code")}",
            MemoryBytes = memory,
            Image = new BootImage { Chunks = b.Chunks, Entry = entry, Description = $"fuzz {kind}" },
        };
    }

    /// <summary>RAM of 8 to 64 MiB, so that the end of RAM moves between cases.</summary>
    public static ulong RandomMemory(Random rng) => (8UL << rng.Next(4)) << 20;

    /// <summary>CR4 bits that change how instructions behave: PGE, OSFXSR, OSXMMEXCPT, UMIP, FSGSBASE, SMEP, SMAP, PCE, TSD, DE, VME, PVI, OSXSAVE.</summary>
    public static ulong RandomCr4(Random rng, bool user)
    {
        ulong[] bits = [1UL << 7, 1UL << 9, 1UL << 10, 1UL << 11, 1UL << 16, 1UL << 20, 1UL << 21, 1UL << 8, 1UL << 2, 1UL << 3, 1UL << 0, 1UL << 1, 1UL << 18];
        ulong cr4 = 0;
        foreach (var bit in bits)
            if (rng.Next(4) == 0) cr4 |= bit;
        // The handlers live in user pages when the code runs at CPL 3: SMEP would fault their every fetch.
        return user ? cr4 & ~((1UL << 20) | (1UL << 21)) : cr4;
    }

    private static ushort CodeSelector(bool compat, bool user) => (compat, user) switch
    {
        (true, true) => FuzzLayout.UserCode32,
        (true, false) => FuzzLayout.Code32,
        (false, true) => FuzzLayout.UserCode64,
        _ => FuzzLayout.Code64,
    };

    public static void Handler16(Assembler a, uint flags)
    {
        a.xor(ax, ax);
        a.mov(ss, ax);
        a.mov(sp, FuzzLayout.RealModeStack);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.inc(__word_ptr[(uint)FuzzLayout.Counter]);
        a.mov(bx, __word_ptr[(uint)FuzzLayout.Counter]);
        a.and(bx, FuzzLayout.ResumePoints - 1);
        a.shl(bx, 3);
        a.push((ushort)(flags & 0xFFFF));
        a.push((ushort)FuzzLayout.CodeSegment);
        a.push(__word_ptr[bx + (int)FuzzLayout.ResumeTable]);
        a.iret();
    }

    private static void Prolog32(Assembler a, ulong root, ulong cr4Bits)
    {
        a.mov(esp, (uint)FuzzLayout.KernelStack);
        a.lgdt(__[(uint)FuzzLayout.Gdtr]);
        a.lidt(__[(uint)FuzzLayout.Idtr]);
        if (root != 0)
        {
            a.mov(eax, (uint)root);
            a.mov(cr3, eax);
            a.mov(eax, (uint)cr4Bits);
            a.mov(cr4, eax);
            a.mov(eax, 0x8001_0031u);
            a.mov(cr0, eax);
        }
        // The platform's CS is already a flat 32-bit code segment like ours: no far jump is needed.
        a.mov(ax, FuzzLayout.TssSelector);
        a.ltr(ax);
        a.mov(eax, (uint)FuzzLayout.Handler32);
        a.jmp(eax);
    }

    private static void Handler32(Assembler a, FuzzKind kind, bool user, uint flags)
    {
        a.mov(ax, FuzzLayout.Data32);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(ss, ax);
        a.mov(esp, (uint)FuzzLayout.KernelStack);
        a.inc(__dword_ptr[(uint)FuzzLayout.Counter]);
        a.mov(eax, __dword_ptr[(uint)FuzzLayout.Counter]);
        a.and(eax, FuzzLayout.ResumePoints - 1);
        if (kind == FuzzKind.Virtual8086)
        {
            a.push(0);
            a.push(0);
            a.push((int)(FuzzLayout.Data >> 4));
            a.push((int)(FuzzLayout.Data >> 4));
            a.push((int)(FuzzLayout.UserStack >> 4) - 0x1000);
            a.push(0xFFF0);
        }
        else if (user)
        {
            a.push((int)FuzzLayout.UserData);
            a.push((int)FuzzLayout.UserStack);
        }
        a.push((int)flags);
        a.push((int)(kind switch
        {
            FuzzKind.Virtual8086 => FuzzLayout.CodeSegment,
            FuzzKind.ProtectedMode16 => user ? FuzzLayout.UserCode16 : FuzzLayout.Code16,
            _ => user ? FuzzLayout.UserCode32 : FuzzLayout.Code32,
        }));
        a.push(__dword_ptr[eax * 8 + (int)FuzzLayout.ResumeTable]);
        a.iretd();
    }

    private static void Prolog64(Assembler a, ulong pml4, ulong cr4Bits)
    {
        a.mov(rsp, FuzzLayout.KernelStack);
        a.lgdt(__[FuzzLayout.Gdtr]);
        a.lidt(__[FuzzLayout.Idtr]);
        a.mov(rax, pml4);
        a.mov(cr3, rax);
        a.mov(rcx, 0x20UL | cr4Bits);
        a.mov(cr4, rcx);
        a.mov(ax, FuzzLayout.TssSelector);
        a.ltr(ax);
        a.push((int)FuzzLayout.Code64);
        a.push((int)FuzzLayout.Handler64);
        a.db(0x48, 0xCB); // RETFQ
    }

    /// <summary>The 64-bit handler: flat data, the ring-0 stack, the counter, then IRETQ to a resume point.</summary>
    public static void Handler64(Assembler a, ushort codeSelector, bool user, uint flags)
    {
        a.mov(ax, FuzzLayout.Data32);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(ss, ax);
        a.mov(rsp, FuzzLayout.KernelStack);
        a.inc(__dword_ptr[FuzzLayout.Counter]);
        a.mov(eax, __dword_ptr[FuzzLayout.Counter]);
        a.and(eax, FuzzLayout.ResumePoints - 1);
        a.push(user ? FuzzLayout.UserData : (int)FuzzLayout.Data32);
        a.push((int)(user ? FuzzLayout.UserStack : FuzzLayout.KernelStack - 0x2000));
        a.push((int)flags);
        a.push((int)codeSelector);
        a.push(__qword_ptr[rax * 8 + (int)FuzzLayout.ResumeTable]);
        a.iretq();
    }
}
