using System.Numerics;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Sim.Differential.Tests;

/// <summary>
/// What the C guests must print, derived here independently of any emulator: the same computation
/// in C# (IEEE arithmetic on the host, its FMA and CRC32 instructions), integer arithmetic where the
/// floating-point results are exact, and exact rational arithmetic for the x87 results that the SDM
/// defines exactly (FPREM1, FXTRACT, FSCALE, FSQRT, the constants). Each guest's parameters are the
/// defaults of its source.
/// </summary>
public static class CGuestExpectations
{
    private const ulong FnvOffset = 0xcbf29ce484222325UL;
    private const ulong FnvPrime = 0x100000001b3UL;

    /// <summary>mandelbrot.c at 64x24, 200 iterations: the whole output.</summary>
    public static string Mandelbrot()
    {
        const int Width = 64, Height = 24, MaxIterations = 200;
        var sb = new StringBuilder($"mandelbrot {Width}x{Height} max {MaxIterations}\n");
        ulong total = 0, hash = FnvOffset;
        for (var row = 0; row < Height; row++)
        {
            var cy = -1.2 + 2.4 * row / (Height - 1);
            for (var column = 0; column < Width; column++)
            {
                var cx = -2.1 + 2.7 * column / (Width - 1);
                double x = 0, y = 0;
                var n = 0;
                while (n < MaxIterations && x * x + y * y <= 4.0)
                {
                    var t = x * x - y * y + cx;
                    y = 2.0 * x * y + cy;
                    x = t;
                    n++;
                }
                total += (ulong)n;
                hash = Mix(Mix(hash, x), y);
                sb.Append(n == MaxIterations ? '#' : " .:-=+*%@"[n % 9]);
            }
            sb.Append('\n');
        }
        sb.Append($"iterations {total}\nhash {CGuestFormat.Hex(hash, 16)}\n");
        return sb.ToString();
    }

    /// <summary>matmul.c at N = 32: the integer product's line (small integers multiply exactly in float).</summary>
    public static string MatmulIntegerLine()
    {
        const int N = 32;
        long sum = 0;
        for (var i = 0; i < N; i++)
            for (var j = 0; j < N; j++)
                for (var k = 0; k < N; k++)
                    sum += ((i * 7 + k * 3) % 11 - 5) * ((k * 5 + j * 9) % 13 - 6);
        return $"integer product: sum {sum}, float result exact";
    }

    /// <summary>fft.c at N = 256: the direct product of its two polynomials, as the checksum the guest prints.</summary>
    public static string FftConvolutionLine()
    {
        const int N = 256;
        var a = new long[N];
        var b = new long[N];
        for (var i = 0; i < N / 2; i++)
        {
            a[i] = (i * 7 + 3) % 19 - 9;
            b[i] = (i * 5 + 1) % 19 - 9;
        }
        long checksum = 0;
        for (var i = 0; i < N; i++)
        {
            long c = 0;
            for (var j = 0; j <= i; j++) c += a[j] * b[i - j];
            checksum = unchecked(checksum * 31 + c);
        }
        return $"convolution: matches the direct product, checksum {checksum}";
    }

    /// <summary>
    /// x87.c lines whose 80-bit result the SDM defines exactly: the constants (FLDPI is pi rounded to
    /// nearest, SDM Vol. 1 8.3.8; FPATAN(1, 1) is pi/4; log2 10 as FLDL2T loads it), FSQRT and FDIV
    /// correctly rounded, and FXTRACT, FSCALE and FPREM1, whose results are exact.
    /// </summary>
    public static IReadOnlyDictionary<string, string> X87ExactLines()
    {
        const ulong PiSignificand = 0xc90fdaa22168c235UL;
        var lines = new Dictionary<string, string>
        {
            ["pi (FLDPI)"] = CGuestFormat.F80(0x4000, PiSignificand),
            ["FPATAN(1, 1)"] = CGuestFormat.F80(0x3ffe, PiSignificand),
            ["FYL2X(1, 10)"] = CGuestFormat.F80(0x4000, 0xd49a784bcd1b8afeUL),
            ["sqrt(2)"] = Extended(false, 2, 1, sqrt: true),
            ["1/3"] = Extended(false, 1, 3),
            ["FXTRACT(1000) s"] = Extended(false, 1000, 512),
            ["FXTRACT(1000) e"] = Extended(false, 9, 1),
            ["FSCALE(3, -70)"] = Extended(false, 3, BigInteger.One << 70),
        };
        // FPREM1: 100 - q * pi with q = 32, the integer nearest 100 / pi; the remainder is exact.
        var remainder = (new BigInteger(100) << 62) - 32 * new BigInteger(PiSignificand);
        lines["FPREM1(100, pi)"] = Extended(remainder.Sign < 0, BigInteger.Abs(remainder), BigInteger.One << 62);
        return lines;
    }

    /// <summary>crc32c.c: the whole output, with the host's CRC32 instruction or a bitwise CRC-32C where it has none.</summary>
    public static string Crc32c()
    {
        const int Length = 4096;
        var buffer = new byte[Length];
        uint x = 1;
        for (var i = 0; i < Length; i++)
        {
            x = unchecked(x * 1103515245u + 12345u);
            buffer[i] = (byte)(x >> 16);
        }
        var check = Crc32cOf("123456789"u8.ToArray());
        var crc = Crc32cOf(buffer);
        var sb = new StringBuilder("crc32c\n");
        foreach (var form in new[] { "bitwise", "crc32 u8", "crc32 u32", "crc32 u64" })
            sb.Append($"\"123456789\" {form} {CGuestFormat.Hex(check, 8)}\n");
        sb.Append($"buffer of {Length} bytes\n");
        foreach (var form in new[] { "bitwise", "crc32 u8", "crc32 u32", "crc32 u64" })
            sb.Append($"{form} {CGuestFormat.Hex(crc, 8)}\n");
        sb.Append($"u64 sum of lengths {CGuestFormat.Hex(crc, 8)}\n");
        return sb.ToString();
    }

    /// <summary>CRC-32C (reflected polynomial 82F63B78h, initial value and final XOR FFFFFFFFh).</summary>
    public static uint Crc32cOf(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            if (Sse42.IsSupported)
            {
                crc = Sse42.Crc32(crc, b);
                continue;
            }
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    /// <summary>avx2fma.c at N = 256, M = 16: the whole output, with the host's fused multiply-add.</summary>
    public static string Avx2Fma()
    {
        const int N = 256, M = 16;
        var sb = new StringBuilder("avx2fma\n");
        var xs = new float[N];
        var ys = new float[N];
        for (var i = 0; i < N; i++)
        {
            xs[i] = i % 13 - 6;
            ys[i] = i % 7 - 3;
        }
        Saxpy(3.0f, xs, ys);
        long sum = 0;
        for (var i = 0; i < N; i++) sum += (long)ys[i];
        sb.Append($"saxpy integers: sum {sum}, exact\n");
        sb.Append($"dot integers {CGuestFormat.F32(Dot(xs, ys))}\n");

        var zs = new float[N];
        for (var i = 0; i < N; i++)
        {
            xs[i] = 1.0f / (i + 1);
            zs[i] = ys[i] = (i % 5 + 1) / 3.0f;
        }
        Saxpy(0.1f, xs, ys);
        var d = Dot(xs, ys);
        sb.Append($"saxpy y[N-1]  {CGuestFormat.F32(ys[N - 1])}\n");
        sb.Append($"dot           {CGuestFormat.F32(d)}\n");
        sb.Append("dot equals scalar FMA in lane order\n");
        var hash = FnvOffset;
        foreach (var y in ys) hash = Fnv(hash, BitConverter.GetBytes(y));
        sb.Append($"saxpy hash {CGuestFormat.Hex(hash, 16)}\n");

        var c = new double[M * M];
        for (var i = 0; i < M; i++)
            for (var j = 0; j < M; j++)
            {
                var s = 0.0;
                for (var k = 0; k < M; k++) s = Math.FusedMultiplyAdd(1.0 / (i + k + 1), (double)(k + 1) / (j + 2), s);
                c[i * M + j] = s;
            }
        sb.Append($"matmul c[0][0] {CGuestFormat.F64(c[0])}\n");
        hash = FnvOffset;
        foreach (var v in c) hash = Fnv(hash, BitConverter.GetBytes(v));
        sb.Append($"matmul hash {CGuestFormat.Hex(hash, 16)}\n");

        hash = FnvOffset;
        for (var i = 0; i < N; i++)
        {
            var a = unchecked((uint)i * 2654435761u);
            var r = unchecked(a * (uint)(i - 100) + (a >> 7));
            hash = Fnv(hash, BitConverter.GetBytes(r));
        }
        sb.Append($"integer hash {CGuestFormat.Hex(hash, 16)}\n");
        return sb.ToString();
    }

    private static void Saxpy(float alpha, float[] x, float[] y)
    {
        for (var i = 0; i < x.Length; i++) y[i] = MathF.FusedMultiplyAdd(alpha, x[i], y[i]);
    }

    /// <summary>Eight lane sums of fused products, then the lanes added in order, as the guest's 256-bit loop does.</summary>
    private static float Dot(float[] x, float[] y)
    {
        var lanes = new float[8];
        for (var i = 0; i < x.Length; i++) lanes[i % 8] = MathF.FusedMultiplyAdd(x[i], y[i], lanes[i % 8]);
        var total = 0.0f;
        foreach (var l in lanes) total += l;
        return total;
    }

    private static ulong Mix(ulong hash, double value) => unchecked((hash ^ BitConverter.DoubleToUInt64Bits(value)) * FnvPrime);

    private static ulong Fnv(ulong hash, byte[] bytes)
    {
        foreach (var b in bytes) hash = unchecked((hash ^ b) * FnvPrime);
        return hash;
    }

    /// <summary>
    /// The extended value nearest numerator / denominator (or its square root), rounded to nearest even,
    /// in the guests' print format; for normal values only.
    /// </summary>
    private static string Extended(bool negative, BigInteger numerator, BigInteger denominator, bool sqrt = false)
    {
        // Find e with 2^63 <= value * 2^e < 2^64, i.e. the significand's scale.
        var e = 0;
        Func<int, (BigInteger Num, BigInteger Den)> scaled = s => sqrt
            ? (s >= 0 ? (numerator << (2 * s), denominator) : (numerator, denominator << (-2 * s)))
            : (s >= 0 ? (numerator << s, denominator) : (numerator, denominator << -s));
        bool Below(int s, BigInteger bound)
        {
            var (n, d) = scaled(s);
            return sqrt ? n < bound * bound * d : n < bound * d;
        }
        while (Below(e, BigInteger.One << 63)) e++;
        while (!Below(e, BigInteger.One << 64)) e--;
        var (num, den) = scaled(e);
        BigInteger significand;
        bool above, tie;
        if (sqrt)
        {
            significand = IntegerSqrt(num / den);
            // Compare value with significand + 1/2: value^2 vs (2s + 1)^2 / 4.
            var twice = 2 * significand + 1;
            var left = 4 * num;
            var right = twice * twice * den;
            above = left > right;
            tie = left == right;
        }
        else
        {
            significand = BigInteger.DivRem(num, den, out var rest);
            above = 2 * rest > den;
            tie = 2 * rest == den;
        }
        if (above || (tie && !significand.IsEven)) significand++;
        if (significand == BigInteger.One << 64)
        {
            significand >>= 1;
            e--;
        }
        var exponent = 16383 + 63 - e;
        return CGuestFormat.F80((ushort)((negative ? 0x8000 : 0) | exponent), (ulong)significand);
    }

    private static BigInteger IntegerSqrt(BigInteger n)
    {
        var x = (BigInteger)Math.Sqrt((double)n);
        while (x * x > n) x--;
        while ((x + 1) * (x + 1) <= n) x++;
        return x;
    }
}
