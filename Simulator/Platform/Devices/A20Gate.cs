namespace Sim.Platform.Devices;

/// <summary>
/// The A20 line as the chipset drives it: the OR of the keyboard controller's output-port bit 1 and
/// bit 1 of system control port A (0x92), as on PS/2-compatible machines.
/// </summary>
public sealed class A20Gate
{
    private bool _fromKeyboardController = true;
    private bool _fromPortA;

    public bool Enabled => _fromKeyboardController || _fromPortA;

    /// <summary>Called with the new state whenever <see cref="Enabled"/> changes (the machine sets the memory's A20 mask).</summary>
    public Action<bool>? Changed { get; set; }

    public bool FromKeyboardController
    {
        get => _fromKeyboardController;
        set => Update(ref _fromKeyboardController, value);
    }

    public bool FromPortA
    {
        get => _fromPortA;
        set => Update(ref _fromPortA, value);
    }

    private void Update(ref bool field, bool value)
    {
        var before = Enabled;
        field = value;
        if (Enabled != before) Changed?.Invoke(Enabled);
    }
}
