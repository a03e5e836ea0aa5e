namespace Sim.Platform.Firmware;

/// <summary>
/// The DSDT (ACPI 6.5, 5.2.11.1) holding only <c>Name (_S5, Package (4) {SLP_TYP, SLP_TYP, 0, 0})</c>,
/// so that OSPM knows what to write to PM1_CNT.SLP_TYP to power off. The AML is assembled here by hand
/// (ACPI 6.5, 20.2: DefName := NameOp NameString DataRefObject; DefPackage := PackageOp PkgLength NumElements PackageElementList).
/// </summary>
public static class DifferentiatedSystemDescriptionTable
{
    /// <summary>2: integers are 64 bits wide.</summary>
    public const byte Revision = 2;

    private const byte NameOp = 0x08;
    private const byte PackageOp = 0x12;
    private const byte ZeroOp = 0x00;
    private const byte OneOp = 0x01;
    private const byte BytePrefix = 0x0A;

    public static byte[] Build(int softOffSleepType)
    {
        if (softOffSleepType is < 0 or > 7) throw new ArgumentOutOfRangeException(nameof(softOffSleepType), "SLP_TYP is a 3-bit field.");
        var elements = new List<byte>();
        elements.AddRange(Integer(softOffSleepType));
        elements.AddRange(Integer(softOffSleepType));
        elements.Add(ZeroOp);
        elements.Add(ZeroOp);
        // A one-byte PkgLength (below 64) counts itself, NumElements and the elements.
        var package = new List<byte> { PackageOp, (byte)(1 + 1 + elements.Count), 4 };
        package.AddRange(elements);
        var aml = new List<byte> { NameOp, (byte)'_', (byte)'S', (byte)'5', (byte)'_' };
        aml.AddRange(package);

        var table = SystemDescriptionTableHeader.Create("DSDT", SystemDescriptionTableHeader.Size + aml.Count, Revision);
        aml.CopyTo(table, SystemDescriptionTableHeader.Size);
        return table;
    }

    private static byte[] Integer(int value) => value switch
    {
        0 => [ZeroOp],
        1 => [OneOp],
        _ => [BytePrefix, (byte)value],
    };
}
