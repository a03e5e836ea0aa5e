/*
 * Reference oracle for the FMA3 and F16C soft-float tests: runs each requested instruction on the host.
 * Input, one request a line:  <instruction> <MXCSR, hex> <a, hex> <b, hex> <c, hex>
 * Output, one line a request: <result, hex> <MXCSR after the instruction, hex>
 * The FMA forms run as "insn c, b, a" in AT&T order, so a is the destination (first source), b the VEX.vvvv source and
 * c the r/m source; scalar single operands use the low 32 bits. VCVTPH2PS converts the half in the low 16 bits of b,
 * VCVTPS2PH<n> the single in the low 32 bits of b with imm8 = n. MXCSR is loaded as given before the instruction and
 * stored right after it, so its flags are that instruction's alone; requests must keep every exception masked.
 */
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <inttypes.h>

typedef long long v2di __attribute__((vector_size(16)));

#define FMA(insn)                                                                            \
    static uint64_t op_##insn(uint32_t *csr, uint64_t a, uint64_t b, uint64_t c)            \
    {                                                                                        \
        v2di x = {(long long)a, 0}, y = {(long long)b, 0}, z = {(long long)c, 0};            \
        __asm__ volatile("vldmxcsr %[m]\n\t" #insn " %[z], %[y], %[x]\n\tvstmxcsr %[m]"       \
                         : [x] "+x"(x), [m] "+m"(*csr) : [y] "x"(y), [z] "x"(z));              \
        return (uint64_t)x[0];                                                               \
    }

#define FMA_FORMS(name) FMA(name##132ss) FMA(name##213ss) FMA(name##231ss) FMA(name##132sd) FMA(name##213sd) FMA(name##231sd)
FMA_FORMS(vfmadd)
FMA_FORMS(vfmsub)
FMA_FORMS(vfnmadd)
FMA_FORMS(vfnmsub)

static uint64_t op_vcvtph2ps(uint32_t *csr, uint64_t a, uint64_t b, uint64_t c)
{
    (void)a;
    (void)c;
    v2di x = {0, 0}, y = {(long long)b, 0};
    __asm__ volatile("vldmxcsr %[m]\n\tvcvtph2ps %[y], %[x]\n\tvstmxcsr %[m]" : [x] "=x"(x), [m] "+m"(*csr) : [y] "x"(y));
    return (uint32_t)x[0];
}

#define PS2PH(n)                                                                                          \
    static uint64_t op_vcvtps2ph##n(uint32_t *csr, uint64_t a, uint64_t b, uint64_t c)                   \
    {                                                                                                     \
        (void)a;                                                                                          \
        (void)c;                                                                                          \
        v2di x = {0, 0}, y = {(long long)b, 0};                                                           \
        __asm__ volatile("vldmxcsr %[m]\n\tvcvtps2ph $" #n ", %[y], %[x]\n\tvstmxcsr %[m]"                \
                         : [x] "=x"(x), [m] "+m"(*csr) : [y] "x"(y));                                      \
        return (uint16_t)x[0];                                                                            \
    }
PS2PH(0) PS2PH(1) PS2PH(2) PS2PH(3) PS2PH(4) PS2PH(5) PS2PH(6) PS2PH(7) PS2PH(8)

typedef uint64_t (*operation)(uint32_t *, uint64_t, uint64_t, uint64_t);

#define ENTRY(insn) {#insn, op_##insn}
#define FMA_ENTRIES(name) ENTRY(name##132ss), ENTRY(name##213ss), ENTRY(name##231ss), ENTRY(name##132sd), ENTRY(name##213sd), ENTRY(name##231sd)
static const struct { const char *name; operation run; } operations[] = {
    FMA_ENTRIES(vfmadd), FMA_ENTRIES(vfmsub), FMA_ENTRIES(vfnmadd), FMA_ENTRIES(vfnmsub),
    ENTRY(vcvtph2ps),
    ENTRY(vcvtps2ph0), ENTRY(vcvtps2ph1), ENTRY(vcvtps2ph2), ENTRY(vcvtps2ph3), ENTRY(vcvtps2ph4),
    ENTRY(vcvtps2ph5), ENTRY(vcvtps2ph6), ENTRY(vcvtps2ph7), ENTRY(vcvtps2ph8),
};

int main(void)
{
    if (!__builtin_cpu_supports("fma") || !__builtin_cpu_supports("f16c")) {
        fprintf(stderr, "the host has no FMA or no F16C\n");
        return 2;
    }
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        char name[32];
        unsigned int csr;
        uint64_t a, b, c;
        if (sscanf(line, "%31s %x %" SCNx64 " %" SCNx64 " %" SCNx64, name, &csr, &a, &b, &c) != 5) {
            printf("bad-request\n");
            continue;
        }
        operation run = 0;
        for (size_t i = 0; i < sizeof operations / sizeof operations[0]; i++)
            if (strcmp(operations[i].name, name) == 0) run = operations[i].run;
        if (!run || (csr & 0x1F80) != 0x1F80 || csr > 0xFFFF) {
            printf("bad-operation\n");
            continue;
        }
        uint32_t m = csr;
        uint64_t r = run(&m, a, b, c);
        printf("%" PRIx64 " %x\n", r, m);
    }
    return 0;
}
