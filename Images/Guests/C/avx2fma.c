/*
 * AVX2 and FMA (-mavx2 -mfma) on 256-bit registers: a single-precision SAXPY and dot product with
 * _mm256_fmadd_ps, a double-precision matrix multiply with _mm256_fmadd_pd, and 32-bit integer
 * arithmetic with _mm256_mullo_epi32/_mm256_add_epi32. Integer-valued data are exact, so they
 * equal the integer results; the others are checked against scalar FMA in the same order.
 */
#include "runtime.h"
#include <immintrin.h>

#ifndef N
#define N 256
#endif
#ifndef M
#define M 16
#endif
#ifndef REPEAT
#define REPEAT 1
#endif

static float xs[N] __attribute__((aligned(32))), ys[N] __attribute__((aligned(32)));
static float zs[N] __attribute__((aligned(32)));
static double a[M][M] __attribute__((aligned(32))), b[M][M] __attribute__((aligned(32)));
static double c[M][M] __attribute__((aligned(32)));
static int32_t ia[N] __attribute__((aligned(32))), ib[N] __attribute__((aligned(32)));

static void saxpy(float alpha, const float *x, float *y)
{
    __m256 va = _mm256_set1_ps(alpha);
    for (int i = 0; i < N; i += 8)
        _mm256_store_ps(y + i, _mm256_fmadd_ps(va, _mm256_load_ps(x + i), _mm256_load_ps(y + i)));
}

/* Eight lane sums, then lane 0 + ... + lane 7 in order. */
static float dot(const float *x, const float *y)
{
    __m256 sum = _mm256_setzero_ps();
    for (int i = 0; i < N; i += 8) sum = _mm256_fmadd_ps(_mm256_load_ps(x + i), _mm256_load_ps(y + i), sum);
    float lanes[8] __attribute__((aligned(32)));
    _mm256_store_ps(lanes, sum);
    float total = 0;
    for (int l = 0; l < 8; l++) total += lanes[l];
    return total;
}

static float dot_scalar(const float *x, const float *y)
{
    float lanes[8] = {0};
    for (int i = 0; i < N; i++) lanes[i % 8] = __builtin_fmaf(x[i], y[i], lanes[i % 8]);
    float total = 0;
    for (int l = 0; l < 8; l++) total += lanes[l];
    return total;
}

static void matmul(void)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j += 4) {
            __m256d sum = _mm256_setzero_pd();
            for (int k = 0; k < M; k++)
                sum = _mm256_fmadd_pd(_mm256_broadcast_sd(&a[i][k]), _mm256_load_pd(&b[k][j]), sum);
            _mm256_store_pd(&c[i][j], sum);
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
    put_string("avx2fma\n");
    require_cpuid1_ecx(CPUID1_ECX_AVX | CPUID1_ECX_OSXSAVE | CPUID1_ECX_FMA, "AVX and FMA");
    require_cpuid7_ebx(CPUID7_EBX_AVX2, "AVX2");

    for (int i = 0; i < N; i++) {
        xs[i] = (float)(i % 13 - 6);
        ys[i] = (float)(i % 7 - 3);
    }
    saxpy(3.0f, xs, ys);
    int64_t sum = 0;
    int exact = 1;
    for (int i = 0; i < N; i++) {
        sum += (int64_t)ys[i];
        if (ys[i] != (float)(3 * (i % 13 - 6) + (i % 7 - 3))) exact = 0;
    }
    put_string("saxpy integers: sum ");
    put_signed(sum);
    put_string(exact ? ", exact\n" : ", inexact\n");
    put_string("dot integers ");
    put_f32(dot(xs, ys));
    put_char('\n');

    for (int i = 0; i < N; i++) {
        xs[i] = 1.0f / (float)(i + 1);
        ys[i] = (float)(i % 5 + 1) / 3.0f;
        zs[i] = ys[i];
    }
    float d = 0;
    for (int r = 0; r < REPEAT; r++) {
        for (int i = 0; i < N; i++) ys[i] = zs[i];
        saxpy(0.1f, xs, ys);
        d = dot(xs, ys);
    }
    put_string("saxpy y[N-1]  ");
    put_f32(ys[N - 1]);
    put_string("\ndot           ");
    put_f32(d);
    put_string(d == dot_scalar(xs, ys) ? "\ndot equals scalar FMA in lane order\n" : "\ndot differs from scalar FMA\n");
    put_line_hex("saxpy hash ", fnv1a(0xcbf29ce484222325ull, ys, sizeof ys), 16);

    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            a[i][j] = 1.0 / (i + j + 1);
            b[i][j] = (double)(i + 1) / (j + 2);
        }
    for (int r = 0; r < REPEAT; r++) matmul();
    put_string("matmul c[0][0] ");
    put_f64(c[0][0]);
    put_char('\n');
    put_line_hex("matmul hash ", fnv1a(0xcbf29ce484222325ull, c, sizeof c), 16);

    for (int i = 0; i < N; i++) {
        ia[i] = i * 2654435761u;
        ib[i] = i - 100;
    }
    for (int i = 0; i < N; i += 8) {
        __m256i x = _mm256_load_si256((const __m256i *)(ia + i)), y = _mm256_load_si256((const __m256i *)(ib + i));
        _mm256_store_si256((__m256i *)(ia + i), _mm256_add_epi32(_mm256_mullo_epi32(x, y), _mm256_srli_epi32(x, 7)));
    }
    put_line_hex("integer hash ", fnv1a(0xcbf29ce484222325ull, ia, sizeof ia), 16);
    return 0;
}
