/*
 * Reference oracle for the x87 soft-float tests: runs each requested operation on the host's real x87.
 * Input, one request a line:  <op> <control word, hex> <operand a, 20 hex digits> <operand b, 20 hex digits>
 * Output, one line a request: <result 1, 20 hex digits> <result 2, 20 hex digits> <status word, 4 hex digits>
 * An 80-bit operand is written sign/exponent first (4 digits), then the significand (16 digits); memory
 * operands narrower than 80 bits use the low digits. ST(0) = a and ST(1) = b for two-operand operations.
 * The FPU is reinitialized before every request so the status word reflects that request alone. The control word is
 * loaded as given, so a request may unmask exceptions; the two-operand operations read their result without waiting.
 *
 * With the argument "sequence" it runs machine code instead, one request a line: <code, hex> <data, hex>. The code is
 * called as a function with the address of a copy of the data in RDI (a RET is appended); the answer is
 * <code address, hex> <data address, hex> <data after the call, hex> <fault>, so that FSAVE images with their pointers
 * can be compared with the simulator running the same code. <fault> is "-", or for code that took #MF (SIGFPE) the
 * faulting RIP and the first 160 bytes of the FXSAVE image the kernel saved at the fault, as <rip, hex>:<image, hex>.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <signal.h>
#include <setjmp.h>
#include <ucontext.h>

typedef struct { uint64_t lo; uint16_t hi; } __attribute__((packed)) t80;

static int parse80(const char *s, t80 *v)
{
    if (strlen(s) != 20) return 0;
    char head[5];
    memcpy(head, s, 4);
    head[4] = 0;
    unsigned int hi;
    unsigned long long lo;
    if (sscanf(head, "%x", &hi) != 1 || sscanf(s + 4, "%llx", &lo) != 1) return 0;
    v->hi = (uint16_t)hi;
    v->lo = lo;
    return 1;
}

#define PRE "fninit\n\tfldcw %[cw]\n\t"

/*
 * FNSAVE reads the registers without waiting, so a result delivered with an unmasked exception pending (the
 * bias-adjusted results of #O and #U) is seen without the #MF the next waiting instruction would take; FNSAVE then
 * reinitializes the FPU, dropping the pending exception. ST(0) is at byte 28 of the 108-byte image.
 */
#define BINARY(name, insn)                                                              \
    static uint16_t name(uint16_t cw, const t80 *a, const t80 *b, t80 *r1, t80 *r2)    \
    {                                                                                   \
        uint16_t sw;                                                                    \
        unsigned char image[108];                                                       \
        (void)r2;                                                                       \
        __asm__ volatile(PRE "fldt %[b]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\t"   \
                         "fnsave %[image]"                                              \
                         : [sw] "=m"(sw), [image] "=m"(image)                           \
                         : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw));                     \
        memcpy(r1, image + 28, 10);                                                     \
        return sw;                                                                      \
    }

BINARY(op_add, "fadd %%st(1), %%st")
BINARY(op_sub, "fsub %%st(1), %%st")
BINARY(op_mul, "fmul %%st(1), %%st")
BINARY(op_div, "fdiv %%st(1), %%st")
BINARY(op_sqrt, "fsqrt")
BINARY(op_prem, "fprem")
BINARY(op_prem1, "fprem1")
BINARY(op_rndint, "frndint")
BINARY(op_scale, "fscale")
BINARY(op_com, "fcom %%st(1)")
BINARY(op_ucom, "fucom %%st(1)")
BINARY(op_xam, "fxam")
BINARY(op_sin, "fsin")
BINARY(op_cos, "fcos")
BINARY(op_patan, "fpatan")
BINARY(op_2xm1, "f2xm1")
BINARY(op_yl2x, "fyl2x")
BINARY(op_yl2xp1, "fyl2xp1")

/* Two results: ST(0) and ST(1) after the instruction (FPTAN: 1.0 and the tangent; FSINCOS: the cosine and the sine). */
#define BINARY2(name, insn)                                                             \
    static uint16_t name(uint16_t cw, const t80 *a, const t80 *b, t80 *r1, t80 *r2)    \
    {                                                                                   \
        uint16_t sw;                                                                    \
        unsigned char image[108];                                                       \
        __asm__ volatile(PRE "fldt %[b]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\t"   \
                         "fnsave %[image]"                                              \
                         : [sw] "=m"(sw), [image] "=m"(image)                           \
                         : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw));                     \
        memcpy(r1, image + 28, 10);                                                     \
        memcpy(r2, image + 38, 10);                                                     \
        return sw;                                                                      \
    }

BINARY2(op_ptan, "fptan")
BINARY2(op_sincos, "fsincos")

static uint16_t op_xtract(uint16_t cw, const t80 *a, const t80 *b, t80 *r1, t80 *r2)
{
    uint16_t sw;
    (void)b;
    __asm__ volatile(PRE "fldt %[a]\n\tfxtract\n\tfnstsw %[sw]\n\tfstpt %[r1]\n\tfstpt %[r2]"
                     : [sw] "=m"(sw), [r1] "=m"(*r1), [r2] "=m"(*r2)
                     : [a] "m"(*a), [cw] "m"(cw));
    return sw;
}

/* A store that an unmasked exception suppresses leaves the sentinel in place. */
#define SENTINEL 0x5A5A5A5A5A5A5A5AULL

#define STORE(name, insn, type)                                                         \
    static uint16_t name(uint16_t cw, const t80 *a, const t80 *b, t80 *r1, t80 *r2)    \
    {                                                                                   \
        uint16_t sw;                                                                    \
        type m = (type)SENTINEL;                                                        \
        (void)b;                                                                        \
        (void)r2;                                                                       \
        __asm__ volatile(PRE "fldt %[a]\n\t" insn " %[m]\n\tfnstsw %[sw]\n\tfninit"     \
                         : [sw] "=m"(sw), [m] "+m"(m)                                   \
                         : [a] "m"(*a), [cw] "m"(cw));                                  \
        r1->hi = 0;                                                                     \
        r1->lo = (uint64_t)m;                                                           \
        return sw;                                                                      \
    }

STORE(op_st32, "fsts", uint32_t)
STORE(op_st64, "fstl", uint64_t)
STORE(op_ist16, "fists", uint16_t)
STORE(op_ist32, "fistl", uint32_t)
STORE(op_ist64, "fistpll", uint64_t)
STORE(op_istt16, "fisttps", uint16_t)
STORE(op_istt32, "fisttpl", uint32_t)
STORE(op_istt64, "fisttpll", uint64_t)

static uint16_t op_bstp(uint16_t cw, const t80 *a, const t80 *b, t80 *r1, t80 *r2)
{
    uint16_t sw;
    (void)b;
    (void)r2;
    __asm__ volatile(PRE "fldt %[a]\n\tfbstp %[r1]\n\tfnstsw %[sw]"
                     : [sw] "=m"(sw), [r1] "=m"(*r1)
                     : [a] "m"(*a), [cw] "m"(cw));
    return sw;
}

#define LOAD(name, insn, type)                                                          \
    static uint16_t name(uint16_t cw, const t80 *a, const t80 *b, t80 *r1, t80 *r2)    \
    {                                                                                   \
        uint16_t sw;                                                                    \
        type m = (type)a->lo;                                                           \
        (void)b;                                                                        \
        (void)r2;                                                                       \
        __asm__ volatile(PRE insn " %[m]\n\tfnstsw %[sw]\n\tfstpt %[r1]"                \
                         : [sw] "=m"(sw), [r1] "=m"(*r1)                                \
                         : [m] "m"(m), [cw] "m"(cw));                                   \
        return sw;                                                                      \
    }

LOAD(op_ld32, "flds", uint32_t)
LOAD(op_ld64, "fldl", uint64_t)
LOAD(op_ild16, "filds", uint16_t)
LOAD(op_ild32, "fildl", uint32_t)
LOAD(op_ild64, "fildll", uint64_t)

static uint16_t op_bld(uint16_t cw, const t80 *a, const t80 *b, t80 *r1, t80 *r2)
{
    uint16_t sw;
    (void)b;
    (void)r2;
    __asm__ volatile(PRE "fbld %[a]\n\tfnstsw %[sw]\n\tfstpt %[r1]"
                     : [sw] "=m"(sw), [r1] "=m"(*r1)
                     : [a] "m"(*a), [cw] "m"(cw));
    return sw;
}

typedef uint16_t (*opfn)(uint16_t, const t80 *, const t80 *, t80 *, t80 *);

static const struct { const char *name; opfn fn; } ops[] = {
    {"add", op_add}, {"sub", op_sub}, {"mul", op_mul}, {"div", op_div}, {"sqrt", op_sqrt},
    {"prem", op_prem}, {"prem1", op_prem1}, {"rndint", op_rndint}, {"scale", op_scale},
    {"xtract", op_xtract}, {"com", op_com}, {"ucom", op_ucom}, {"xam", op_xam},
    {"st32", op_st32}, {"st64", op_st64}, {"ist16", op_ist16}, {"ist32", op_ist32},
    {"ist64", op_ist64}, {"istt16", op_istt16}, {"istt32", op_istt32}, {"istt64", op_istt64},
    {"bstp", op_bstp}, {"ld32", op_ld32}, {"ld64", op_ld64}, {"ild16", op_ild16},
    {"ild32", op_ild32}, {"ild64", op_ild64}, {"bld", op_bld}, {"sin", op_sin}, {"cos", op_cos},
    {"patan", op_patan}, {"2xm1", op_2xm1}, {"yl2x", op_yl2x}, {"yl2xp1", op_yl2xp1}, {"ptan", op_ptan},
    {"sincos", op_sincos},
};

static int hexval(int c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static size_t parsehex(const char *s, unsigned char *out, size_t max)
{
    size_t n = 0;
    while (s[0] && s[1] && n < max) {
        out[n++] = (unsigned char)(hexval(s[0]) << 4 | hexval(s[1]));
        s += 2;
    }
    return n;
}

#define DATA_SIZE 4096

static sigjmp_buf fault_jump;
static unsigned char fault_state[160];
static unsigned long long fault_rip;

static void on_fpe(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    (void)sig;
    (void)info;
    memcpy(fault_state, uc->uc_mcontext.fpregs, sizeof fault_state);
    fault_rip = (unsigned long long)uc->uc_mcontext.gregs[REG_RIP];
    siglongjmp(fault_jump, 1);
}

static int run_sequences(void)
{
    static char code_hex[65536], data_hex[2 * DATA_SIZE + 2];
    static unsigned char data[DATA_SIZE] __attribute__((aligned(4096)));
    unsigned char *code = mmap(0, 65536, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        printf("error mmap\n");
        return 1;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fpe;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGFPE, &action, 0);
    while (scanf("%65535s %8193s", code_hex, data_hex) == 2) {
        size_t n = parsehex(code_hex, code, 65535);
        code[n] = 0xC3;
        memset(data, 0, sizeof data);
        size_t d = parsehex(data_hex, data, DATA_SIZE);
        /* Empty registers keep their contents, which FSAVE shows: start from zeros, as the simulator's power-up state. */
        __asm__ volatile("fninit\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfninit");
        int faulted = sigsetjmp(fault_jump, 1);
        if (!faulted) ((void (*)(unsigned char *))code)(data);
        __asm__ volatile("fninit");
        printf("%llX %llX ", (unsigned long long)(uintptr_t)code, (unsigned long long)(uintptr_t)data);
        for (size_t i = 0; i < d; i++) printf("%02X", data[i]);
        if (faulted) {
            printf(" %llX:", fault_rip);
            for (size_t i = 0; i < sizeof fault_state; i++) printf("%02X", fault_state[i]);
            printf("\n");
        } else {
            printf(" -\n");
        }
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "sequence") == 0) return run_sequences();
    char name[16], cws[8], as[32], bs[32];
    while (scanf("%15s %7s %31s %31s", name, cws, as, bs) == 4) {
        unsigned int cw;
        t80 a, b, r1 = {0, 0}, r2 = {0, 0};
        opfn fn = 0;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            if (strcmp(ops[i].name, name) == 0) fn = ops[i].fn;
        if (!fn || sscanf(cws, "%x", &cw) != 1 || !parse80(as, &a) || !parse80(bs, &b)) {
            printf("error\n");
            fflush(stdout);
            continue;
        }
        uint16_t sw = fn((uint16_t)cw, &a, &b, &r1, &r2);
        printf("%04X%016llX %04X%016llX %04X\n", r1.hi, (unsigned long long)r1.lo, r2.hi,
               (unsigned long long)r2.lo, sw);
    }
    return 0;
}
