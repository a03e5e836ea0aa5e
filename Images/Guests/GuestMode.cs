namespace Sim.Images.Guests;

/// <summary>The CPU mode a built-in guest's program runs in.</summary>
public enum GuestMode
{
    Protected32,
    Long64,
}
