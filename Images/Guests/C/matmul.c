/*
 * Matrix multiply in single and double precision with SSE2 (-msse2 -mfpmath=sse, vectorised by
 * gcc at -O2). Matrices of small integers multiply exactly in float, so the result equals the
 * integer product; the Hilbert-like matrices print every bit of a few results and a hash of all.
 */
#include "runtime.h"

#ifndef N
#define N 32
#endif
#ifndef REPEAT
#define REPEAT 1
#endif

static float af[N][N], bf[N][N], cf[N][N];
static double ad[N][N], bd[N][N], cd[N][N];
static int32_t ai[N][N], bi[N][N], ci[N][N];

static int32_t small_a(int i, int j) { return (i * 7 + j * 3) % 11 - 5; }
static int32_t small_b(int i, int j) { return (i * 5 + j * 9) % 13 - 6; }

static void multiply_float(void)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) cf[i][j] = 0;
        for (int k = 0; k < N; k++) {
            float a = af[i][k];
            for (int j = 0; j < N; j++) cf[i][j] += a * bf[k][j];
        }
    }
}

static void multiply_double(void)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) cd[i][j] = 0;
        for (int k = 0; k < N; k++) {
            double a = ad[i][k];
            for (int j = 0; j < N; j++) cd[i][j] += a * bd[k][j];
        }
    }
}

static uint64_t fnv1a(uint64_t hash, const void *data, size_t length)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < length; i++) hash = (hash ^ p[i]) * 0x100000001b3ull;
    return hash;
}

int main(void)
{
    put_string("matmul N=");
    put_unsigned(N);
    put_char('\n');

    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            ai[i][j] = small_a(i, j);
            bi[i][j] = small_b(i, j);
            af[i][j] = (float)ai[i][j];
            bf[i][j] = (float)bi[i][j];
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int32_t s = 0;
            for (int k = 0; k < N; k++) s += ai[i][k] * bi[k][j];
            ci[i][j] = s;
        }
    multiply_float();
    int64_t sum = 0;
    int exact = 1;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            sum += (int64_t)cf[i][j];
            if (cf[i][j] != (float)ci[i][j]) exact = 0;
        }
    put_string("integer product: sum ");
    put_signed(sum);
    put_string(exact ? ", float result exact\n" : ", float result differs\n");

    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            af[i][j] = 1.0f / (float)(i + j + 1);
            bf[i][j] = (float)(i - j) / (float)(i + 2 * j + 3);
            ad[i][j] = 1.0 / (double)(i + j + 1);
            bd[i][j] = (double)(i - j) / (double)(i + 2 * j + 3);
        }
    for (int r = 0; r < REPEAT; r++) {
        multiply_float();
        multiply_double();
    }
    put_string("float c[0][0]   ");
    put_f32(cf[0][0]);
    put_string("\nfloat c[N-1][1] ");
    put_f32(cf[N - 1][1]);
    put_string("\ndouble c[0][0]  ");
    put_f64(cd[0][0]);
    put_string("\ndouble c[N-1][1] ");
    put_f64(cd[N - 1][1]);
    put_char('\n');
    put_line_hex("float hash  ", fnv1a(0xcbf29ce484222325ull, cf, sizeof cf), 16);
    put_line_hex("double hash ", fnv1a(0xcbf29ce484222325ull, cd, sizeof cd), 16);
    return 0;
}
