using Sim.Cpu;
using Sim.Microkernels.Kernel;
using Sim.Microkernels.Nova;
using Sim.Platform;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// A VM on the NOVA model built by hand with hypercalls, as a roottask would: a VM PD, a local
/// handler EC on CPU 0 whose portals sit at the vCPU's event base, a vCPU with its SC, and one
/// page of guest memory at guest-physical 0 holding real-mode code at 0000:1000.
/// </summary>
internal sealed class NovaVm : IDisposable
{
    public const ulong VmPd = 0x100, Handler = 0x101, Vcpu = 0x102, VcpuSc = 0x103, VcpuSm = 0x104, PortalBase = 0x1000, EventBase = 0x400;
    public const ulong GuestRam = 0x200000, GuestCode = 0x1000;

    private readonly Dictionary<int, Func<ulong, PortalReply>> _handlers = new();

    public NovaVm(CpuVendor vendor = CpuVendor.Intel, int cpus = 1)
    {
        Machine = new Machine(new MachineConfig { Cpus = cpus, Vendor = vendor, MemoryBytes = 64UL << 20 });
        Kernel = new NovaKernel(Machine);
    }

    public Machine Machine { get; }

    public NovaKernel Kernel { get; }

    public List<(int Portal, ulong Rip)> Exits { get; } = new();

    public Ec HandlerEc => Kernel.RootPd.Objects.Lookup<Ec>(Handler)!;

    public Ec VcpuEc => Kernel.RootPd.Objects.Lookup<Ec>(Vcpu)!;

    public ulong Utcb => HandlerEc.Utcb;

    public ulong U(int offset, int size = 8) => Machine.Memory.Read(Utcb + (ulong)offset, size);

    public void SetU(int offset, ulong value, int size = 8) => Machine.Memory.Write(Utcb + (ulong)offset, size, value);

    /// <summary>Creates the VM with the guest code and a portal (with <paramref name="mtd"/>) for each exit handled.</summary>
    public void Build(byte[] code, IEnumerable<(int Portal, Mtd Mtd, Func<ulong, PortalReply> Handle)> portals, bool startVcpu = true)
    {
        var root = NovaKernel.RootPdSelector;
        Check(Kernel.CreatePd(VmPd, root, "vm"));
        Check(Kernel.CreateEc(Handler, root, 0, utcb: 1, eventBase: 0, global: false, name: "handler"));
        Check(Kernel.CreateSm(VcpuSm, root));
        foreach (var (portal, mtd, handle) in portals)
        {
            _handlers[portal] = handle;
            var sel = PortalBase + (ulong)portal;
            Check(Kernel.CreatePt(sel, root, Handler, mtd, id =>
            {
                Exits.Add(((int)id, U(UtcbLayout.Rip)));
                return _handlers[(int)id](id);
            }));
            Check(Kernel.PtCtrl(sel, (ulong)portal));
            Check(Kernel.DelegateObject(sel, VmPd, EventBase + (ulong)portal));
        }
        Machine.Memory.WriteBytes(GuestRam + GuestCode, code);
        Check(Kernel.DelegateMemory(VmPd, GuestRam, 0, 0x10000, GuestPageRights.All));
        Check(Kernel.CreateEc(Vcpu, VmPd, 0, utcb: 0, eventBase: EventBase, global: true, name: "vcpu0"));
        if (startVcpu) Check(Kernel.CreateSc(VcpuSc, root, Vcpu, 10));
    }

    /// <summary>The reset-like real-mode state Genode's vmm_x86 loads at the startup exit, at 0000:<paramref name="ip"/>, written into the UTCB with its MTD.</summary>
    public void LoadRealModeState(ulong ip, uint primary, uint secondary, bool svm)
    {
        SetU(UtcbLayout.Rip, ip);
        SetU(UtcbLayout.Rflags, 2);
        SetU(UtcbLayout.Cr0, 0x10);
        foreach (var seg in new[] { UtcbLayout.Cs, UtcbLayout.Ss, UtcbLayout.Ds, UtcbLayout.Es, UtcbLayout.Fs, UtcbLayout.Gs })
            Segment(seg, 0, 0x93, 0xFFFF, 0);
        Segment(UtcbLayout.Tr, 0, 0x8B, 0xFFFF, 0);
        Segment(UtcbLayout.Ld, 0, 0x1000, 0xFFFF, 0);
        Segment(UtcbLayout.Gd, 0, 0, 0xFFFF, 0);
        Segment(UtcbLayout.Id, 0, 0, 0xFFFF, 0);
        SetU(UtcbLayout.Dr7, 0x400);
        SetU(UtcbLayout.Ctrl0, primary, 4);
        SetU(UtcbLayout.Ctrl1, secondary, 4);
        var mtd = Mtd.RipLen | Mtd.Rflags | Mtd.CsSs | Mtd.DsEs | Mtd.FsGs | Mtd.Tr | Mtd.Ldtr | Mtd.Gdtr | Mtd.Idtr | Mtd.Cr | Mtd.Dr | Mtd.Ctrl;
        SetU(UtcbLayout.Mtd, (ulong)mtd);
        _ = svm;
    }

    private void Segment(int offset, ushort sel, ushort ar, uint limit, ulong baseAddress)
    {
        SetU(offset + UtcbLayout.SegmentSel, sel, 2);
        SetU(offset + UtcbLayout.SegmentAr, ar, 2);
        SetU(offset + UtcbLayout.SegmentLimit, limit, 4);
        SetU(offset + UtcbLayout.SegmentBase, baseAddress);
    }

    public void Finish() => Machine.Control.RequestExit(RunOutcome.Finished, 0, "finished");

    public static void Check(NovaStatus status) => Assert.AreEqual(NovaStatus.Success, status);

    public void Dispose() => Machine.Dispose();
}
