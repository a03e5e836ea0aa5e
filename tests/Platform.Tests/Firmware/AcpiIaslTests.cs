using System.Text.RegularExpressions;

namespace Sim.Platform.Tests.Firmware;

/// <summary>Each ACPI table, as the machine leaves it in memory, disassembled by ACPICA's iasl and compiled back.</summary>
[TestClass]
public sealed partial class AcpiIaslTests
{
    private string? _directory;

    [TestInitialize]
    public void CreateDirectory() => _directory = Directory.CreateTempSubdirectory("sim-iasl-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory!, recursive: true);

    [GeneratedRegex(@"(\d+) Errors?")]
    private static partial Regex ErrorCount();

    [TestMethod]
    [DataRow(1)]
    [DataRow(4)]
    public void IaslDisassemblesAndRecompilesEveryTableWithoutErrors(int cpus)
    {
        var iasl = Tool.Require("iasl");
        using var machine = FirmwareMachine.Create(cpus);
        var tables = FirmwareMachine.Tables(machine);
        foreach (var (signature, (_, bytes)) in tables)
        {
            var name = signature.ToLowerInvariant();
            File.WriteAllBytes(Path.Combine(_directory!, name + ".dat"), bytes);
            var (exit, output) = Tool.Run(iasl, _directory!, TimeSpan.FromSeconds(30), "-d", name + ".dat");
            Assert.AreEqual(0, exit, $"iasl -d {signature}: {output}");
            StringAssert.DoesNotMatch(output, new Regex("error|invalid|incorrect|mismatch", RegexOptions.IgnoreCase), $"iasl -d {signature}");
            var dsl = File.ReadAllText(Path.Combine(_directory!, name + ".dsl"));
            StringAssert.DoesNotMatch(dsl, new Regex("Incorrect checksum|Invalid|\\*\\*\\*\\*", RegexOptions.IgnoreCase), $"{signature} disassembly:\n{dsl}");

            (exit, output) = Tool.Run(iasl, _directory!, TimeSpan.FromSeconds(30), name + ".dsl");
            Assert.AreEqual(0, exit, $"iasl {signature}.dsl: {output}");
            var errors = ErrorCount().Match(output);
            Assert.IsTrue(errors.Success, $"iasl {signature}.dsl reported no error count: {output}");
            Assert.AreEqual("0", errors.Groups[1].Value, $"iasl {signature}.dsl: {output}");
        }
    }
}
