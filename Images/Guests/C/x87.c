/*
 * Extended precision on the x87 FPU (-mfpmath=387, long double): pi from Machin's formula, e from
 * its series and sqrt(2) by FSQRT, against the constants FLDPI, FLDL2E and FLDLN2 load; then the
 * transcendental instructions (FPATAN, F2XM1, FYL2X, FYL2XP1, FSIN, FCOS, FPTAN, FSCALE, FXTRACT,
 * FPREM1, FRNDINT) through inline assembly, composed into exp and log, and a compound-interest loop
 * built on them.
 */
#include "runtime.h"

#ifndef REPEAT
#define REPEAT 1
#endif

static long double fpatan(long double y, long double x)
{
    long double r;
    __asm__("fpatan" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
    return r;
}

static long double f2xm1(long double x)
{
    __asm__("f2xm1" : "+t"(x));
    return x;
}

static long double fyl2x(long double y, long double x)
{
    long double r;
    __asm__("fyl2x" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
    return r;
}

static long double fyl2xp1(long double y, long double x)
{
    long double r;
    __asm__("fyl2xp1" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
    return r;
}

static long double fscale(long double x, long double n)
{
    __asm__("fscale" : "+t"(x) : "u"(n));
    return x;
}

static long double frndint(long double x)
{
    __asm__("frndint" : "+t"(x));
    return x;
}

static long double fprem1(long double x, long double m)
{
    __asm__("1: fprem1; fnstsw %%ax; testw $0x400, %%ax; jnz 1b" : "+t"(x) : "u"(m) : "ax");
    return x;
}

static long double fxtract_significand(long double x, long double *exponent)
{
    long double s, e;
    __asm__("fxtract" : "=t"(s), "=u"(e) : "0"(x));
    *exponent = e;
    return s;
}

static long double fsin(long double x)
{
    __asm__("fsin" : "+t"(x));
    return x;
}

static long double fcos(long double x)
{
    __asm__("fcos" : "+t"(x));
    return x;
}

/* FPTAN leaves tan x in ST(1) and pushes 1. */
static long double fptan(long double x)
{
    long double one, tangent;
    __asm__("fptan" : "=t"(one), "=u"(tangent) : "0"(x));
    return tangent;
}

static long double constant_pi(void) { long double r; __asm__("fldpi" : "=t"(r)); return r; }
static long double constant_l2e(void) { long double r; __asm__("fldl2e" : "=t"(r)); return r; }
static long double constant_ln2(void) { long double r; __asm__("fldln2" : "=t"(r)); return r; }

static long double fsqrt(long double x)
{
    __asm__("fsqrt" : "+t"(x));
    return x;
}

/* e^x = 2^(x log2 e): 2^i * (f2xm1(f) + 1) with i = round(x log2 e), |f| <= 1/2. */
static long double exp_x87(long double x)
{
    long double t = x * constant_l2e();
    long double i = frndint(t);
    return fscale(f2xm1(t - i) + 1, i);
}

/* ln x = ln 2 * log2 x. */
static long double log_x87(long double x) { return fyl2x(constant_ln2(), x); }

static long double atan_series(long double x)
{
    long double power = x, sum = x;
    for (int k = 1; k < 40; k++) {
        power *= -x * x;
        sum += power / (2 * k + 1);
    }
    return sum;
}

static void line(const char *label, long double x)
{
    put_string(label);
    put_f80(x);
    put_char('\n');
}

int main(void)
{
    put_string("x87 long double\n");
    long double machin = 4 * (4 * atan_series(1.0L / 5) - atan_series(1.0L / 239));
    line("pi (Machin)     ", machin);
    line("pi (FLDPI)      ", constant_pi());
    long double e = 0, term = 1;
    for (int k = 1; k < 30; k++) { e += term; term /= k; }
    line("e (series)      ", e);
    line("sqrt(2)         ", fsqrt(2.0L));
    line("1/3             ", 1.0L / 3);
    line("FXTRACT(1000) s ", fxtract_significand(1000.0L, &term));
    line("FXTRACT(1000) e ", term);
    line("FPREM1(100, pi) ", fprem1(100.0L, constant_pi()));
    line("FSCALE(3, -70)  ", fscale(3.0L, -70.0L));

    line("FPATAN(1, 1)    ", fpatan(1.0L, 1.0L));
    line("FPATAN(1, -2)   ", fpatan(1.0L, -2.0L));
    line("F2XM1(0.5)      ", f2xm1(0.5L));
    line("F2XM1(-0.25)    ", f2xm1(-0.25L));
    line("FYL2X(1, 10)    ", fyl2x(1.0L, 10.0L));
    line("FYL2X(3, 0.7)   ", fyl2x(3.0L, 0.7L));
    line("FYL2XP1(1, 1/8) ", fyl2xp1(1.0L, 0.125L));
    line("FSIN(1)         ", fsin(1.0L));
    line("FCOS(1)         ", fcos(1.0L));
    line("FPTAN(0.5)      ", fptan(0.5L));
    line("FSIN(0.001)     ", fsin(0.001L));
    line("exp(1)          ", exp_x87(1.0L));
    line("exp(-2.5)       ", exp_x87(-2.5L));
    line("log(10)         ", log_x87(10.0L));

    /* (1 + 1/n)^n = exp(n log(1 + 1/n)), tending to e. */
    long double compound = 0;
    for (int r = 0; r < REPEAT; r++)
        for (int n = 1; n <= 1000; n++) compound += exp_x87(n * log_x87(1 + 1.0L / n));
    line("sum (1+1/n)^n   ", compound);
    return 0;
}
