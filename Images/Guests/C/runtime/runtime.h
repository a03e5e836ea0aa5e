/*
 * The freestanding runtime of the C guests: output to port E9h (QEMU's debugcon, Bochs'
 * port_e9_hack, sim's debug console), exact printing of floating-point values (their bit pattern
 * in hex, then a few decimal digits computed with integer arithmetic only), CPUID, and the way the
 * run ends on sim, QEMU and Bochs alike.
 */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

void put_char(char c);
void put_string(const char *s);
void put_hex(uint64_t value, int digits);
void put_unsigned(uint64_t value);
void put_signed(int64_t value);

/* Bit pattern and decimal value (6 fractional digits, truncated) of each format. */
void put_f32_bits(uint32_t bits);
void put_f64_bits(uint64_t bits);
void put_f80_bits(uint64_t significand, uint16_t sign_exponent);

static inline void put_f32(float x) { uint32_t b; __builtin_memcpy(&b, &x, 4); put_f32_bits(b); }
static inline void put_f64(double x) { uint64_t b; __builtin_memcpy(&b, &x, 8); put_f64_bits(b); }
static inline void put_f80(long double x)
{
    uint64_t s; uint16_t e;
    __builtin_memcpy(&s, &x, 8);
    __builtin_memcpy(&e, (const char *)&x + 8, 2);
    put_f80_bits(s, e);
}

/* Label, value, newline. */
void put_line_unsigned(const char *label, uint64_t value);
void put_line_hex(const char *label, uint64_t value, int digits);

struct cpuid_result { uint32_t eax, ebx, ecx, edx; };
struct cpuid_result cpuid(uint32_t leaf, uint32_t subleaf);

/* CPUID.01H:ECX bits and CPUID.(EAX=07H,ECX=0):EBX bits (SDM Vol. 2A, CPUID, Tables 3-10 and 3-8). */
#define CPUID1_ECX_SSE42 (1u << 20)
#define CPUID1_ECX_FMA (1u << 12)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CPUID1_ECX_AVX (1u << 28)
#define CPUID7_EBX_AVX2 (1u << 5)

/* Prints "<name> not announced" and ends the run with status 3 unless the feature is there. */
void require_cpuid1_ecx(uint32_t bits, const char *name);
void require_cpuid7_ebx(uint32_t bits, const char *name);

/*
 * Ends the run: a nonzero status goes to port F4h (QEMU's isa-debug-exit; sim ends with
 * (status << 1) | 1), then "Shutdown" to port 8900h (Bochs and sim end there, sim with status 0),
 * then 0 to port F4h (QEMU ends with status 1).
 */
__attribute__((noreturn)) void guest_exit(int status);

void *memcpy(void *destination, const void *source, size_t count);
void *memmove(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);
int memcmp(const void *a, const void *b, size_t count);

#endif
