namespace Sim.Cpu.X87;

/// <summary>
/// A value rounded to a destination format, still in the extended exponent scale (biased by 3FFFh). A denormal or zero
/// result has <see cref="Exponent"/> one below the destination's smallest normal exponent and the integer bit clear, as
/// the encodings of every destination format have it; an overflow to infinity has the destination's reserved exponent.
/// </summary>
internal readonly record struct Rounded(bool Sign, int Exponent, ulong Significand, FpuExceptions Exceptions, bool RoundedUp);
