namespace Sim.Vmm.Genode;

/// <summary>
/// A Genode component (<c>Component::construct</c>): a kernel model's launcher creates the component's
/// environment and calls <see cref="Construct"/> on the main entrypoint's simulated thread. From then on
/// the component only reacts to signals and VM exits dispatched on its entrypoints.
/// </summary>
public interface IComponent
{
    void Construct(IGenodeEnv env);
}
