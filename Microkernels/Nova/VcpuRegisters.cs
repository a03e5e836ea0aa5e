using Sim.Cpu;

namespace Sim.Microkernels.Nova;

/// <summary>The guest registers a vCPU EC keeps while it is not in its guest: those VM entry and exit leave in the processor.</summary>
public sealed class VcpuRegisters
{
    public ulong Rax, Rcx, Rdx, Rbx, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15;

    public void SaveFrom(Processor cpu, bool svm)
    {
        if (!svm) Rax = cpu.Rax;
        Rcx = cpu.Rcx;
        Rdx = cpu.Rdx;
        Rbx = cpu.Rbx;
        Rbp = cpu.Rbp;
        Rsi = cpu.Rsi;
        Rdi = cpu.Rdi;
    }

    public void LoadInto(Processor cpu, bool svm)
    {
        if (!svm) cpu.Rax = Rax;
        cpu.Rcx = Rcx;
        cpu.Rdx = Rdx;
        cpu.Rbx = Rbx;
        cpu.Rbp = Rbp;
        cpu.Rsi = Rsi;
        cpu.Rdi = Rdi;
    }
}
