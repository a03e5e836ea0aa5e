namespace Sim.Vmx;

/// <summary>VM-instruction error numbers (SDM vol. 3, table 31-1).</summary>
public enum VmxInstructionError : byte
{
    None = 0,
    VmcallInVmxRootOperation = 1,
    VmclearWithInvalidPhysicalAddress = 2,
    VmclearWithVmxonPointer = 3,
    VmlaunchWithNonClearVmcs = 4,
    VmresumeWithNonLaunchedVmcs = 5,
    VmresumeAfterVmxoff = 6,
    VmEntryWithInvalidControlFields = 7,
    VmEntryWithInvalidHostStateFields = 8,
    VmptrldWithInvalidPhysicalAddress = 9,
    VmptrldWithVmxonPointer = 10,
    VmptrldWithIncorrectRevisionIdentifier = 11,
    UnsupportedVmcsComponent = 12,
    VmwriteToReadOnlyVmcsComponent = 13,
    VmxonInVmxRootOperation = 15,
    VmEntryWithInvalidExecutiveVmcsPointer = 16,
    VmEntryWithNonLaunchedExecutiveVmcs = 17,
    VmEntryWithExecutiveVmcsPointerNotVmxonPointer = 18,
    VmcallWithNonClearVmcs = 19,
    VmcallWithInvalidVmExitControlFields = 20,
    VmcallWithIncorrectMsegRevisionIdentifier = 22,
    VmxoffUnderDualMonitorTreatment = 23,
    VmcallWithInvalidSmmMonitorFeatures = 24,
    VmEntryWithInvalidExecutionControlsInExecutiveVmcs = 25,
    VmEntryWithEventsBlockedByMovSs = 26,
    InvalidOperandToInveptInvvpid = 28,
}
