using System.Reflection;

namespace Sim.Vmm.Tests;

internal static class StateFields
{
    public static string[] InDeclarationOrder(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .OrderBy(p => p.MetadataToken)
            .Select(p => p.Name)
            .ToArray();
}
