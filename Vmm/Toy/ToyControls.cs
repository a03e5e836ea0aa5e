namespace Sim.Vmm.Toy;

/// <summary>The execution controls the test loads on the startup exit (SDM vol. 3 24.6.2, APM vol. 2 15.9 and Appendix B).</summary>
internal static class ToyControls
{
    public const uint IntelPrimaryUseTscOffsetting = 1u << 3;
    public const uint IntelPrimaryHltExiting = 1u << 7;
    public const uint IntelSecondaryEnableRdtscp = 1u << 3;
    public const uint IntelSecondaryUnrestrictedGuest = 1u << 7;
    public const uint AmdPrimaryHltIntercept = 1u << 24;
    public const uint AmdSecondaryVmrunIntercept = 1u << 0;
}
