namespace Sim.Microkernels.Nova;

/// <summary>NOVA's hypercall numbers (alex-ab r10 as Genode uses them).</summary>
public enum Hypercall : byte
{
    Call = 0,
    Reply = 1,
    CreatePd = 2,
    CreateEc = 3,
    CreateSc = 4,
    CreatePt = 5,
    CreateSm = 6,
    Revoke = 7,
    Lookup = 8,
    EcCtrl = 9,
    ScCtrl = 0xA,
    PtCtrl = 0xB,
    SmCtrl = 0xC,
    AssignPci = 0xD,
    AssignGsi = 0xE,
    PdCtrl = 0xF,
}
