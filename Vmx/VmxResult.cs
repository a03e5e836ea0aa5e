namespace Sim.Vmx;

/// <summary>The outcome of a VMX instruction executed through the unit's C# interface or by guest code.</summary>
public readonly record struct VmxResult(VmxResultKind Kind, VmxInstructionError Error = VmxInstructionError.None, int Vector = -1, uint ErrorCode = 0)
{
    public static readonly VmxResult Succeed = new(VmxResultKind.Succeed);
    public static readonly VmxResult FailInvalid = new(VmxResultKind.FailInvalid);
    public static readonly VmxResult EntryFailure = new(VmxResultKind.EntryFailure);
    public static readonly VmxResult VmExit = new(VmxResultKind.VmExit);

    public static VmxResult FailValid(VmxInstructionError error) => new(VmxResultKind.FailValid, error);

    public static VmxResult Fault(int vector, uint errorCode = 0) => new(VmxResultKind.Fault, Vector: vector, ErrorCode: errorCode);

    public bool Succeeded => Kind == VmxResultKind.Succeed;
}
