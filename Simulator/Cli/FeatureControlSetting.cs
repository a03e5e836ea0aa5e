namespace Sim.Cli;

/// <summary>What `sim run --feature-control` asks sim's firmware to leave in IA32_FEATURE_CONTROL.</summary>
public enum FeatureControlSetting
{
    /// <summary>Locked with VMX outside SMX enabled, as PC firmware leaves it.</summary>
    Locked,

    /// <summary>0: VMXON raises #GP until the guest enables and locks it.</summary>
    Unlocked,
}
