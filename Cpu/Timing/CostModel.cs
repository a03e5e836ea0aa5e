using System.Text.Json;

namespace Sim.Cpu.Timing;

/// <summary>
/// The modeled cycles every operation of the virtualization units and of host software (kernel
/// models, the VM library, VMMs) charges to the processor it runs on. The defaults, each with its
/// published source, live in one data file (costs.json, embedded); a JSON file of the same shape,
/// or of plain <c>"name": cycles</c> pairs, overrides any subset of them.
/// </summary>
/// <remarks>
/// VMREAD, VMWRITE, VMLOAD and VMSAVE are charged the same whether host software calls the unit's
/// method or guest code (a hypervisor written as guest code) executes the instruction; for guest
/// code the figure comes on top of the instruction's own per-instruction cycle.
/// </remarks>
public sealed record CostModel
{
    /// <summary>Hardware VM exit (VT-x): guest state saved, host state loaded.</summary>
    public ulong VmxExit { get; init; }

    /// <summary>VM entry by VMLAUNCH or VMRESUME.</summary>
    public ulong VmxEntry { get; init; }

    public ulong Vmread { get; init; }

    public ulong Vmwrite { get; init; }

    /// <summary>VMRUN's switch into the guest (AMD-V).</summary>
    public ulong Vmrun { get; init; }

    /// <summary>#VMEXIT's switch back to the host (AMD-V).</summary>
    public ulong SvmExit { get; init; }

    public ulong Vmload { get; init; }

    public ulong Vmsave { get; init; }

    /// <summary>From a system-call instruction to the kernel's handler.</summary>
    public ulong SyscallEntry { get; init; }

    /// <summary>From the kernel's return to the caller's next instruction.</summary>
    public ulong SyscallExit { get; init; }

    /// <summary>One IPC transfer, a portal call or its reply, beyond the system-call entry and exit.</summary>
    public ulong Ipc { get; init; }

    /// <summary>Switching the running thread within one address space.</summary>
    public ulong ThreadSwitch { get; init; }

    /// <summary>Switching page tables (and the rest of an address space) on top of a thread switch.</summary>
    public ulong AddressSpaceSwitch { get; init; }

    /// <summary>One word copied into a UTCB or a message register.</summary>
    public ulong UtcbWord { get; init; }

    /// <summary>An inter-processor interrupt, from the sender's ICR write to its arrival at the target.</summary>
    public ulong IpiDelivery { get; init; }

    /// <summary>Signalling a semaphore or notification.</summary>
    public ulong SignalDelivery { get; init; }

    private static readonly (string Name, Func<CostModel, ulong> Get, Func<CostModel, ulong, CostModel> Set)[] Figures =
    [
        ("vmxExit", c => c.VmxExit, (c, v) => c with { VmxExit = v }),
        ("vmxEntry", c => c.VmxEntry, (c, v) => c with { VmxEntry = v }),
        ("vmread", c => c.Vmread, (c, v) => c with { Vmread = v }),
        ("vmwrite", c => c.Vmwrite, (c, v) => c with { Vmwrite = v }),
        ("vmrun", c => c.Vmrun, (c, v) => c with { Vmrun = v }),
        ("svmExit", c => c.SvmExit, (c, v) => c with { SvmExit = v }),
        ("vmload", c => c.Vmload, (c, v) => c with { Vmload = v }),
        ("vmsave", c => c.Vmsave, (c, v) => c with { Vmsave = v }),
        ("syscallEntry", c => c.SyscallEntry, (c, v) => c with { SyscallEntry = v }),
        ("syscallExit", c => c.SyscallExit, (c, v) => c with { SyscallExit = v }),
        ("ipc", c => c.Ipc, (c, v) => c with { Ipc = v }),
        ("threadSwitch", c => c.ThreadSwitch, (c, v) => c with { ThreadSwitch = v }),
        ("addressSpaceSwitch", c => c.AddressSpaceSwitch, (c, v) => c with { AddressSpaceSwitch = v }),
        ("utcbWord", c => c.UtcbWord, (c, v) => c with { UtcbWord = v }),
        ("ipiDelivery", c => c.IpiDelivery, (c, v) => c with { IpiDelivery = v }),
        ("signalDelivery", c => c.SignalDelivery, (c, v) => c with { SignalDelivery = v }),
    ];

    private static readonly Lazy<(CostModel Model, IReadOnlyDictionary<string, string> Sources)> Defaults = new(LoadDefaults);

    /// <summary>The published defaults of costs.json, loaded once.</summary>
    public static CostModel Default => Defaults.Value.Model;

    /// <summary>The figures' names as the JSON files spell them, in the data file's order.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Figures, f => f.Name);

    /// <summary>Where the default of <paramref name="name"/> comes from, as costs.json states it.</summary>
    public static string SourceOf(string name) =>
        Defaults.Value.Sources.TryGetValue(name, out var source) ? source : throw new ArgumentException($"no cost figure is named '{name}'", nameof(name));

    /// <summary>The value of the figure named <paramref name="name"/> in this model.</summary>
    public ulong this[string name] => Array.Find(Figures, f => f.Name == name).Get?.Invoke(this)
        ?? throw new ArgumentException($"no cost figure is named '{name}'", nameof(name));

    /// <summary>The defaults with the figures of the JSON file at <paramref name="path"/> in their place.</summary>
    /// <exception cref="CostModelException">The file cannot be read, is not JSON, or names or values a figure wrongly.</exception>
    public static CostModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CostModelException($"cannot read the cost file '{path}': {e.Message}");
        }
        return Parse(json, path, Default, out _);
    }

    /// <summary>The figures of <paramref name="json"/> over <paramref name="baseline"/>; <paramref name="origin"/> names the text in errors.</summary>
    /// <exception cref="CostModelException">The text is not JSON, or names or values a figure wrongly.</exception>
    public static CostModel Parse(string json, string origin, CostModel baseline) => Parse(json, origin, baseline, out _);

    private static CostModel Parse(string json, string origin, CostModel baseline, out Dictionary<string, string> sources)
    {
        sources = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new CostModelException($"{origin}: not valid JSON: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CostModelException($"{origin}: expected an object of cost figures, e.g. {{ \"vmxExit\": 250 }}");
            var model = baseline;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var index = Array.FindIndex(Figures, f => f.Name == property.Name);
                if (index < 0)
                    throw new CostModelException($"{origin}: unknown cost figure '{property.Name}'; known figures: {string.Join(", ", Names)}");
                if (!seen.Add(property.Name))
                    throw new CostModelException($"{origin}: cost figure '{property.Name}' is given twice");
                var value = property.Value;
                if (value.ValueKind == JsonValueKind.Object)
                {
                    JsonElement? cycles = null;
                    foreach (var field in value.EnumerateObject())
                    {
                        switch (field.Name)
                        {
                            case "cycles": cycles = field.Value; break;
                            case "source" when field.Value.ValueKind == JsonValueKind.String: sources[property.Name] = field.Value.GetString()!; break;
                            case "source": throw new CostModelException($"{origin}: the source of '{property.Name}' must be a string");
                            default: throw new CostModelException($"{origin}: cost figure '{property.Name}' has an unknown field '{field.Name}' (only cycles and source)");
                        }
                    }
                    value = cycles ?? throw new CostModelException($"{origin}: cost figure '{property.Name}' has no cycles");
                }
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetUInt64(out var figure))
                    throw new CostModelException($"{origin}: cost figure '{property.Name}' must be a non-negative whole number of cycles, not {value.GetRawText()}");
                model = Figures[index].Set(model, figure);
            }
            return model;
        }
    }

    private static (CostModel, IReadOnlyDictionary<string, string>) LoadDefaults()
    {
        const string resource = "Sim.Cpu.Timing.costs.json";
        using var stream = typeof(CostModel).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"the assembly lacks its embedded {resource}");
        using var reader = new StreamReader(stream);
        var model = Parse(reader.ReadToEnd(), "costs.json", new CostModel(), out var sources);
        foreach (var (name, _, _) in Figures)
            if (!sources.ContainsKey(name)) throw new InvalidOperationException($"costs.json gives no figure with a source for '{name}'");
        return (model, sources);
    }
}
