/*
 * A radix-2 decimation-in-time FFT in double precision on the x87 FPU (-mfpmath=387): the
 * transform of an impulse (exactly all ones), a round trip through the inverse transform, and the
 * product of two integer polynomials by FFT convolution, rounded and checked against the direct
 * product. The twiddle factors come from a Taylor series in long double: no libm.
 */
#include "runtime.h"

#ifndef LOG2_N
#define LOG2_N 8
#endif
#ifndef REPEAT
#define REPEAT 1
#endif
#define N (1 << LOG2_N)

static const long double pi = 3.14159265358979323846264338327950288L;

static double re[N], im[N], re2[N], im2[N], cos_table[N / 2], sin_table[N / 2];
static int64_t pa[N], pb[N], direct[N];

/* sin and cos of |x| <= pi/4 by their Taylor series to well beyond long double precision. */
static long double sin_series(long double x)
{
    long double term = x, sum = x;
    for (int k = 1; k < 14; k++) {
        term = -term * x * x / (long double)((2 * k) * (2 * k + 1));
        sum += term;
    }
    return sum;
}

static long double cos_series(long double x)
{
    long double term = 1, sum = 1;
    for (int k = 1; k < 14; k++) {
        term = -term * x * x / (long double)((2 * k - 1) * (2 * k));
        sum += term;
    }
    return sum;
}

/* cos and sin of 2 pi k / N, reduced to the first octant. */
static void twiddles(void)
{
    for (int k = 0; k < N / 2; k++) {
        int octant = (8 * k) / N;
        long double angle = 2 * pi * (long double)k / N;
        long double c, s;
        if (octant == 0) { c = cos_series(angle); s = sin_series(angle); }
        else if (octant == 1) { c = sin_series(pi / 2 - angle); s = cos_series(pi / 2 - angle); }
        else if (octant == 2) { c = -sin_series(angle - pi / 2); s = cos_series(angle - pi / 2); }
        else { c = -cos_series(pi - angle); s = sin_series(pi - angle); }
        cos_table[k] = (double)c;
        sin_table[k] = (double)s;
    }
}

static void fft(double *xr, double *xi, int inverse)
{
    for (int i = 1, j = 0; i < N; i++) {
        int bit = N >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = xr[i]; xr[i] = xr[j]; xr[j] = t;
            t = xi[i]; xi[i] = xi[j]; xi[j] = t;
        }
    }
    for (int length = 2; length <= N; length <<= 1) {
        int step = N / length;
        for (int start = 0; start < N; start += length)
            for (int k = 0; k < length / 2; k++) {
                double wr = cos_table[k * step], wi = inverse ? sin_table[k * step] : -sin_table[k * step];
                double *ur = &xr[start + k], *ui = &xi[start + k];
                double *vr = &xr[start + k + length / 2], *vi = &xi[start + k + length / 2];
                double tr = *vr * wr - *vi * wi, ti = *vr * wi + *vi * wr;
                *vr = *ur - tr; *vi = *ui - ti;
                *ur += tr; *ui += ti;
            }
    }
    if (inverse)
        for (int i = 0; i < N; i++) { xr[i] /= N; xi[i] /= N; }
}

static uint64_t fnv1a(uint64_t hash, const void *data, size_t length)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < length; i++) hash = (hash ^ p[i]) * 0x100000001b3ull;
    return hash;
}

int main(void)
{
    put_string("fft N=");
    put_unsigned(N);
    put_char('\n');
    twiddles();
    put_string("cos(2pi/N) ");
    put_f64(cos_table[1]);
    put_string("\nsin(2pi/N) ");
    put_f64(sin_table[1]);
    put_char('\n');

    for (int i = 0; i < N; i++) { re[i] = i == 0; im[i] = 0; }
    fft(re, im, 0);
    int ones = 1;
    for (int i = 0; i < N; i++) if (re[i] != 1.0 || im[i] != 0.0) ones = 0;
    put_string(ones ? "impulse: all ones\n" : "impulse: not all ones\n");

    for (int r = 0; r < REPEAT; r++) {
        for (int i = 0; i < N; i++) {
            re[i] = re2[i] = (double)((i * 37) % 17) / 8 - 1;
            im[i] = im2[i] = (double)((i * 11) % 7) / 4 - 0.75;
        }
        fft(re, im, 0);
    }
    put_string("X[1]   ");
    put_f64(re[1]);
    put_char(' ');
    put_f64(im[1]);
    put_char('\n');
    put_line_hex("spectrum hash ", fnv1a(fnv1a(0xcbf29ce484222325ull, re, sizeof re), im, sizeof im), 16);
    fft(re, im, 1);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double d = re[i] - re2[i], e = im[i] - im2[i];
        if (d < 0) d = -d;
        if (e < 0) e = -e;
        if (d > worst) worst = d;
        if (e > worst) worst = e;
    }
    put_string("round trip max error ");
    put_f64(worst);
    put_char('\n');

    /* Polynomials of degree < N/2 with coefficients in [-9, 9]: their product has degree < N. */
    for (int i = 0; i < N; i++) {
        pa[i] = i < N / 2 ? (i * 7 + 3) % 19 - 9 : 0;
        pb[i] = i < N / 2 ? (i * 5 + 1) % 19 - 9 : 0;
        re[i] = (double)pa[i]; im[i] = 0;
        re2[i] = (double)pb[i]; im2[i] = 0;
    }
    for (int i = 0; i < N; i++) {
        direct[i] = 0;
        for (int j = 0; j <= i; j++) direct[i] += pa[j] * pb[i - j];
    }
    fft(re, im, 0);
    fft(re2, im2, 0);
    for (int i = 0; i < N; i++) {
        double r = re[i] * re2[i] - im[i] * im2[i];
        im[i] = re[i] * im2[i] + im[i] * re2[i];
        re[i] = r;
    }
    fft(re, im, 1);
    int matches = 1;
    int64_t checksum = 0;
    for (int i = 0; i < N; i++) {
        int64_t c = (int64_t)(re[i] < 0 ? re[i] - 0.5 : re[i] + 0.5);
        if (c != direct[i]) matches = 0;
        checksum = checksum * 31 + c;
    }
    put_string(matches ? "convolution: matches the direct product, checksum " : "convolution: differs from the direct product, checksum ");
    put_signed(checksum);
    put_char('\n');
    return 0;
}
