namespace Sim.Microkernels.Nova.Genode;

/// <summary>
/// One vCPU as core and the client library share it: its SM and EC (core's selectors and the
/// component's, at 64 + 4 × id), its event base in the VM PD, its SC once started, and the portals
/// the client registered for its exits.
/// </summary>
internal sealed class NovaVcpuCore
{
    public NovaVcpuCore(NovaVmSession session, uint id, NovaEntrypoint ep)
    {
        Session = session;
        Id = id;
        Ep = ep;
        var env = session.Env;
        SmCore = env.CoreSelectors.Allocate();
        EcCore = env.CoreSelectors.Allocate();
        SmOwn = NovaVmSession.InitialPtReserved + id * 4;
        EcOwn = SmOwn + 1;
        EventBase = (ulong)NovaVmSession.ExitPortals * id;
    }

    public NovaVmSession Session { get; }

    public uint Id { get; }

    /// <summary>The handler's entrypoint: the vCPU runs on its CPU, its exits are calls into its local EC.</summary>
    public NovaEntrypoint Ep { get; }

    public ulong SmCore { get; }

    public ulong EcCore { get; }

    public ulong SmOwn { get; }

    public ulong EcOwn { get; }

    public ulong EventBase { get; }

    public Ec Ec { get; set; } = null!;

    public bool Started { get; private set; }

    private NovaKernel Kernel => Session.Kernel;

    /// <summary>Core's portal for an exit: a PT on the entrypoint's local EC with <paramref name="mtd"/> and the badge, mapped at event base + each exit in <paramref name="exits"/>.</summary>
    public void ExitHandler(Mtd mtd, ushort badgeExit, PortalEntry entry, IEnumerable<int> exits)
    {
        var env = Session.Env;
        var pt = env.CoreSelectors.Allocate();
        env.Core(() =>
        {
            Session.Check(Kernel.CreatePt(pt, NovaKernel.RootPdSelector, Ep.LocalEcCore, mtd, entry), "create_pt");
            Session.Check(Kernel.PtCtrl(pt, ((ulong)Id << 16) | badgeExit), "pt_ctrl");
            foreach (var exit in exits)
                Session.Check(Kernel.DelegateObject(pt, Session.VmPdCore, EventBase + (ulong)exit, ObjectRights.PtCall), "map portal");
        });
    }

    /// <summary>Core's run/startup: the SC that starts the vCPU with its startup exit.</summary>
    public void Startup()
    {
        if (Started) return;
        Started = true;
        var sc = Session.Env.CoreSelectors.Allocate();
        Session.Env.Core(() => Session.Check(Kernel.CreateSc(sc, NovaKernel.RootPdSelector, EcCore, NovaEntrypoint.Priority), "create_sc"));
    }

    public void Destroy() => Ec.Thread?.Kill();

    /// <summary>The UTCB of the EC that runs now (the entrypoint's local EC in an exit, its global EC in a signal dispatch).</summary>
    public ulong CurrentUtcb => Kernel.CurrentEc.Utcb;
}
