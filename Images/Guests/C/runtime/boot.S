/*
 * Boot stub of the freestanding C guests: entered in 32-bit protected mode with paging off, either
 * by a Multiboot loader (sim, QEMU's -kernel) at _start, or by the built-in floppy boot sector
 * (Images/Guests/FloppyBootSector.cs, used for Bochs) at the first byte of the image, which it
 * loads at 0x10000. It identity-maps the first 1 GiB with 2 MiB pages, enters 64-bit mode, enables
 * the x87 FPU and SSE (SDM Vol. 3A 13.1.3: CR0.MP and NE set, EM clear, CR4.OSFXSR and
 * OSXMMEXCPT) and, when CPUID announces XSAVE and AVX, the AVX state (CR4.OSXSAVE, XCR0 = 7,
 * SDM Vol. 1 13.3), then calls main and ends through guest_exit.
 */

#define MULTIBOOT_MAGIC 0x1BADB002
#define MULTIBOOT_FLAGS 0
#define FLOPPY_LOAD_ADDRESS 0x10000
#define CODE32 0x08
#define DATA 0x10
#define CODE64 0x18

    .section .boot, "ax"
    .code32
    .globl _image_start
_image_start:
    /* The floppy boot sector jumps to the image's first byte; a Multiboot loader enters at _start. */
    jmp floppy_entry

    .balign 4
multiboot_header:
    .long MULTIBOOT_MAGIC
    .long MULTIBOOT_FLAGS
    .long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

/*
 * Runs at FLOPPY_LOAD_ADDRESS, not where it is linked: it copies the image to its link address
 * (above 1 MiB; the boot sector enabled A20) and continues there. The boot sector's GDT has the
 * same flat selectors as ours.
 */
floppy_entry:
    movw $DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    cld
    movl $FLOPPY_LOAD_ADDRESS, %esi
    movl $_image_start, %edi
    movl $_image_file_end, %ecx
    subl %edi, %ecx
    rep movsb
    movl $_start, %eax
    jmp *%eax

    .globl _start
_start:
    cli
    lgdt gdt_pointer
    ljmp $CODE32, $reload_segments
reload_segments:
    movw $DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $stack_top, %esp
    cld

    /* A Multiboot loader clears .bss; the floppy path does not, so clear it here for both. */
    movl $_bss_start, %edi
    movl $_bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    /* PML4[0] -> PDPT, PDPT[0] -> PD, PD[i] = i * 2 MiB with PS, RW, P. */
    movl $pdpt, %eax
    orl $0x3, %eax
    movl %eax, pml4
    movl $page_directory, %eax
    orl $0x3, %eax
    movl %eax, pdpt
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, page_directory(, %ecx, 8)
    incl %ecx
    cmpl $512, %ecx
    jne 1b

    movl $pml4, %eax
    movl %eax, %cr3
    /* CR4: PAE (5), OSFXSR (9), OSXMMEXCPT (10). */
    movl %cr4, %eax
    orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    movl %eax, %cr4
    /* IA32_EFER.LME (bit 8). */
    movl $0xC0000080, %ecx
    rdmsr
    orl $(1 << 8), %eax
    wrmsr
    /* CR0: PE, MP (1), NE (5), PG (31); EM (2) and TS (3) clear. */
    movl %cr0, %eax
    andl $~((1 << 2) | (1 << 3)), %eax
    orl $((1 << 0) | (1 << 1) | (1 << 5) | (1 << 31)), %eax
    movl %eax, %cr0
    ljmp $CODE64, $long_mode

    .code64
long_mode:
    movw $DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq $stack_top, %rsp
    fninit
    ldmxcsr mxcsr_default

    /* CPUID.01H:ECX.XSAVE (26) and AVX (28) both announced: CR4.OSXSAVE (18), then XCR0 = x87 | SSE | AVX. */
    movl $1, %eax
    cpuid
    movl %ecx, %eax
    andl $((1 << 26) | (1 << 28)), %eax
    cmpl $((1 << 26) | (1 << 28)), %eax
    jne 2f
    movq %cr4, %rax
    orq $(1 << 18), %rax
    movq %rax, %cr4
    xorl %ecx, %ecx
    movl $7, %eax
    xorl %edx, %edx
    xsetbv
2:
    call main
    movl %eax, %edi
    call guest_exit

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF    /* 0x08: flat 32-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10: flat data */
    .quad 0x00AF9A000000FFFF    /* 0x18: 64-bit code */
gdt_end:
gdt_pointer:
    .word gdt_end - gdt - 1
    .long gdt
mxcsr_default:
    .long 0x1F80

    .section .bss
    .balign 4096
pml4:
    .skip 4096
pdpt:
    .skip 4096
page_directory:
    .skip 4096
    .balign 16
    .skip 65536
stack_top:
