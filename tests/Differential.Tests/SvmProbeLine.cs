using System.Globalization;

namespace Sim.Differential.Tests;

/// <summary>
/// An SVM probe line ("exit CODE i1 EXITINFO1 i2 EXITINFO2") with only the EXITINFO fields the APM defines for its exit code
/// (vol. 2, 15.7-15.12, 15.25.6): the error code of an exception that pushes one and CR2 for #PF, both for a nested page fault
/// and for IOIO, EXITINFO1 for MSR. Elsewhere, VMEXIT_INVALID included, the fields hold whatever was there.
/// </summary>
public static class SvmProbeLine
{
    private const ulong ExceptionBase = 0x40, PageFault = 0x4E, Ioio = 0x7B, Msr = 0x7C, NestedPageFault = 0x400;

    public static string Normalize(string line)
    {
        var parts = line.Split(' ');
        if (parts is not ["exit", var code, "i1", var info1, "i2", var info2]) return line;
        var exitCode = ulong.Parse(code, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return exitCode switch
        {
            NestedPageFault or Ioio or PageFault => $"exit {code} i1 {info1} i2 {info2}",
            Msr => $"exit {code} i1 {info1}",
            >= ExceptionBase and < ExceptionBase + 32 when (exitCode - ExceptionBase) is 8 or 10 or 11 or 12 or 13 or 17 or 21 or 29 or 30 => $"exit {code} i1 {info1}",
            _ => $"exit {code}",
        };
    }
}
