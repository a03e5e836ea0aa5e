namespace Sim.Cpu.Registers;

/// <summary>Architectural exception vectors (SDM vol. 3, table 6-1).</summary>
public static class ExceptionVector
{
    public const byte DE = 0;
    public const byte DB = 1;
    public const byte NMI = 2;
    public const byte BP = 3;
    public const byte OF = 4;
    public const byte BR = 5;
    public const byte UD = 6;
    public const byte NM = 7;
    public const byte DF = 8;
    public const byte TS = 10;
    public const byte NP = 11;
    public const byte SS = 12;
    public const byte GP = 13;
    public const byte PF = 14;
    public const byte MF = 16;
    public const byte AC = 17;
    public const byte MC = 18;
    public const byte XM = 19;
    public const byte VE = 20;
    public const byte CP = 21;

    /// <summary>Whether the exception pushes an error code (SDM vol. 3, 6.13).</summary>
    public static bool HasErrorCode(int vector) =>
        vector is DF or TS or NP or SS or GP or PF or AC or CP;

    /// <summary>Contributory exceptions for the double-fault rules (SDM vol. 3, table 6-4).</summary>
    public static bool IsContributory(int vector) =>
        vector is DE or TS or NP or SS or GP;
}
