#include "runtime.h"

#define DEBUG_CONSOLE_PORT 0xE9
#define DEBUG_EXIT_PORT 0xF4
#define BOCHS_SHUTDOWN_PORT 0x8900

static inline void out8(uint16_t port, uint8_t value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

void put_char(char c) { out8(DEBUG_CONSOLE_PORT, (uint8_t)c); }

void put_string(const char *s)
{
    while (*s) put_char(*s++);
}

void put_hex(uint64_t value, int digits)
{
    for (int i = digits - 1; i >= 0; i--) put_char("0123456789abcdef"[(value >> (4 * i)) & 0xF]);
}

void put_unsigned(uint64_t value)
{
    char buffer[20];
    int n = 0;
    do {
        buffer[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) put_char(buffer[--n]);
}

void put_signed(int64_t value)
{
    if (value < 0) {
        put_char('-');
        put_unsigned(-(uint64_t)value);
    } else {
        put_unsigned((uint64_t)value);
    }
}

/*
 * Prints significand * 2^exponent in fixed point with 6 fractional digits, truncated, using
 * integer arithmetic only; values of 2^64 and more are printed as a power-of-two bound.
 */
static void put_scaled(int negative, uint64_t significand, int exponent)
{
    if (negative) put_char('-');
    uint64_t integer, fraction;
    if (significand == 0) {
        integer = fraction = 0;
    } else if (exponent >= 0) {
        if (exponent >= 64 || (significand >> (64 - exponent)) != 0) {
            int bits = 64 - __builtin_clzll(significand);
            put_string(">=2^");
            put_unsigned((uint64_t)(bits - 1 + exponent));
            return;
        }
        integer = significand << exponent;
        fraction = 0;
    } else {
        int shift = -exponent;
        unsigned __int128 fixed = shift >= 128 ? 0 : ((unsigned __int128)significand << 64) >> shift;
        integer = (uint64_t)(fixed >> 64);
        fraction = (uint64_t)fixed;
    }
    put_unsigned(integer);
    put_char('.');
    for (int i = 0; i < 6; i++) {
        unsigned __int128 t = (unsigned __int128)fraction * 10;
        put_char((char)('0' + (int)(t >> 64)));
        fraction = (uint64_t)t;
    }
}

static void put_special(int negative, int nan)
{
    put_string(nan ? "nan" : negative ? "-inf" : "inf");
}

void put_f32_bits(uint32_t bits)
{
    put_hex(bits, 8);
    put_char(' ');
    int negative = bits >> 31, exponent = (bits >> 23) & 0xFF;
    uint32_t fraction = bits & 0x7FFFFF;
    if (exponent == 0xFF) put_special(negative, fraction != 0);
    else if (exponent == 0) put_scaled(negative, fraction, -149);
    else put_scaled(negative, fraction | 0x800000, exponent - 150);
}

void put_f64_bits(uint64_t bits)
{
    put_hex(bits, 16);
    put_char(' ');
    int negative = (int)(bits >> 63), exponent = (int)((bits >> 52) & 0x7FF);
    uint64_t fraction = bits & 0xFFFFFFFFFFFFFull;
    if (exponent == 0x7FF) put_special(negative, fraction != 0);
    else if (exponent == 0) put_scaled(negative, fraction, -1074);
    else put_scaled(negative, fraction | (1ull << 52), exponent - 1075);
}

void put_f80_bits(uint64_t significand, uint16_t sign_exponent)
{
    put_hex(sign_exponent, 4);
    put_char(':');
    put_hex(significand, 16);
    put_char(' ');
    int negative = sign_exponent >> 15, exponent = sign_exponent & 0x7FFF;
    if (exponent == 0x7FFF) put_special(negative, (significand << 1) != 0);
    else put_scaled(negative, significand, (exponent == 0 ? 1 : exponent) - 16383 - 63);
}

void put_line_unsigned(const char *label, uint64_t value)
{
    put_string(label);
    put_unsigned(value);
    put_char('\n');
}

void put_line_hex(const char *label, uint64_t value, int digits)
{
    put_string(label);
    put_hex(value, digits);
    put_char('\n');
}

struct cpuid_result cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_result r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

static void require(int present, const char *name)
{
    if (present) return;
    put_string(name);
    put_string(" not announced\n");
    guest_exit(3);
}

void require_cpuid1_ecx(uint32_t bits, const char *name) { require((cpuid(1, 0).ecx & bits) == bits, name); }

void require_cpuid7_ebx(uint32_t bits, const char *name)
{
    require(cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & bits) == bits, name);
}

void guest_exit(int status)
{
    if (status != 0) out8(DEBUG_EXIT_PORT, (uint8_t)status);
    for (const char *s = "Shutdown"; *s; s++) out8(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    out8(DEBUG_EXIT_PORT, 0);
    for (;;) __asm__ volatile("cli; hlt");
}

void *memcpy(void *destination, const void *source, size_t count)
{
    unsigned char *d = destination;
    const unsigned char *s = source;
    while (count--) *d++ = *s++;
    return destination;
}

void *memmove(void *destination, const void *source, size_t count)
{
    unsigned char *d = destination;
    const unsigned char *s = source;
    if (d < s) {
        while (count--) *d++ = *s++;
    } else {
        while (count--) d[count] = s[count];
    }
    return destination;
}

void *memset(void *destination, int value, size_t count)
{
    unsigned char *d = destination;
    while (count--) *d++ = (unsigned char)value;
    return destination;
}

int memcmp(const void *a, const void *b, size_t count)
{
    const unsigned char *x = a, *y = b;
    for (; count; count--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}
