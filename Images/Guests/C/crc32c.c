/*
 * CRC-32C (Castagnoli, reflected polynomial 82F63B78h) with SSE4.2's CRC32 instruction
 * (-msse4.2: _mm_crc32_u8, _mm_crc32_u32, _mm_crc32_u64), against a bitwise implementation:
 * the check value of "123456789" (E3069283h) and a 4 KiB buffer from a linear congruential generator.
 */
#include "runtime.h"
#include <nmmintrin.h>

#ifndef LENGTH
#define LENGTH 4096
#endif
#ifndef REPEAT
#define REPEAT 1
#endif

static unsigned char buffer[LENGTH];

static uint32_t crc32c_bitwise(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1));
    }
    return ~crc;
}

static uint32_t crc32c_u8(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFF;
    for (size_t i = 0; i < n; i++) crc = _mm_crc32_u8(crc, p[i]);
    return ~crc;
}

/* Four bytes at a time, the tail byte by byte. */
static uint32_t crc32c_u32(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFF;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t v;
        __builtin_memcpy(&v, p + i, 4);
        crc = _mm_crc32_u32(crc, v);
    }
    for (; i < n; i++) crc = _mm_crc32_u8(crc, p[i]);
    return ~crc;
}

static uint32_t crc32c_u64(const unsigned char *p, size_t n)
{
    uint64_t crc = 0xFFFFFFFF;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        __builtin_memcpy(&v, p + i, 8);
        crc = _mm_crc32_u64(crc, v);
    }
    for (; i < n; i++) crc = _mm_crc32_u8((uint32_t)crc, p[i]);
    return ~(uint32_t)crc;
}

int main(void)
{
    put_string("crc32c\n");
    require_cpuid1_ecx(CPUID1_ECX_SSE42, "SSE4.2");
    static const unsigned char check[] = "123456789";
    put_line_hex("\"123456789\" bitwise ", crc32c_bitwise(check, 9), 8);
    put_line_hex("\"123456789\" crc32 u8 ", crc32c_u8(check, 9), 8);
    put_line_hex("\"123456789\" crc32 u32 ", crc32c_u32(check, 9), 8);
    put_line_hex("\"123456789\" crc32 u64 ", crc32c_u64(check, 9), 8);

    uint32_t x = 1;
    for (int i = 0; i < LENGTH; i++) {
        x = x * 1103515245u + 12345u;
        buffer[i] = (unsigned char)(x >> 16);
    }
    put_string("buffer of ");
    put_unsigned(LENGTH);
    put_string(" bytes\n");
    put_line_hex("bitwise ", crc32c_bitwise(buffer, LENGTH), 8);
    put_line_hex("crc32 u8 ", crc32c_u8(buffer, LENGTH), 8);
    put_line_hex("crc32 u32 ", crc32c_u32(buffer, LENGTH), 8);
    uint32_t sum = 0;
    for (int r = 0; r < REPEAT; r++) sum += crc32c_u64(buffer, LENGTH - r % 8);
    put_line_hex("crc32 u64 ", crc32c_u64(buffer, LENGTH), 8);
    put_line_hex("u64 sum of lengths ", sum, 8);
    return 0;
}
