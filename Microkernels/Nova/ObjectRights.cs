namespace Sim.Microkernels.Nova;

/// <summary>The permission bits of object capabilities (NOVA's object-CRD rights, Genode's <c>Obj_crd::RIGHT_*</c>).</summary>
public static class ObjectRights
{
    public const uint All = 0x1F;

    /// <summary>EC: ec_ctrl recall.</summary>
    public const uint EcRecall = 0x1;

    /// <summary>PT: pt_ctrl (setting the portal id).</summary>
    public const uint PtCtrl = 0x1;

    /// <summary>PT: calling it.</summary>
    public const uint PtCall = 0x2;

    /// <summary>SM: sm_ctrl up.</summary>
    public const uint SmUp = 0x1;

    /// <summary>SM: sm_ctrl down.</summary>
    public const uint SmDown = 0x2;

    /// <summary>PD: creating PDs, ECs, SCs, PTs and SMs in it.</summary>
    public const uint PdCreatePd = 0x1, PdCreateEc = 0x2, PdCreateSc = 0x4, PdCreatePt = 0x8, PdCreateSm = 0x10;
}
