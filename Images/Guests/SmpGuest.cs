using System.Globalization;
using System.Text;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Images.Guests.SmpLayout;

namespace Sim.Images.Guests;

/// <summary>
/// A multiprocessor guest in 32-bit protected mode. The bootstrap processor finds the CPUs in the ACPI
/// MADT, starts each application processor with INIT, SIPI, SIPI through a real-mode trampoline, and
/// every CPU sums its slice of a range and runs its local APIC timer in one-shot, periodic and
/// TSC-deadline mode; then the BSP sends fixed, NMI, broadcast and logical IPIs, and routes the PIT,
/// the RTC and COM1 through the I/O APIC. It prints only counts and results, never times, so that the
/// output is the same on sim and on QEMU for the same number of CPUs.
/// </summary>
public sealed partial class SmpGuest : BuiltInGuest
{
    /// <summary>The range [0, <see cref="RangeSize"/>) whose mixed values the CPUs sum in slices.</summary>
    public const uint RangeSize = 1 << 20;

    /// <summary>The logical destination of the logical IPI: flat model, CPU n's LDR is 1 &lt;&lt; n, so the odd-numbered CPUs.</summary>
    public const byte LogicalMask = 0xAA;

    /// <summary>Ticks each periodic-timer, PIT, RTC and COM1 test waits for.</summary>
    public const int Ticks = 3;

    private const uint Golden = 0x9E37_79B1;

    public override string Name => "smp";

    public override GuestMode Mode => GuestMode.Protected32;

    /// <summary>The value CPU <paramref name="index"/> of <paramref name="cpus"/> adds to the sum.</summary>
    public static (uint Start, uint End) Slice(int index, int cpus)
    {
        var chunk = RangeSize / (uint)cpus;
        var start = chunk * (uint)index;
        return (start, index == cpus - 1 ? RangeSize : start + chunk);
    }

    /// <summary>The sum of k * 9E3779B1h with its upper bits folded in (x ^ x >> 15), mod 2^32, over [start, end).</summary>
    public static uint Sum(uint start, uint end)
    {
        var sum = 0u;
        for (var k = start; k < end; k++)
        {
            var x = unchecked(k * Golden);
            sum = unchecked(sum + (x ^ (x >> 15)));
        }

        return sum;
    }

    /// <summary>The output on a machine with <paramref name="cpus"/> CPUs (APIC IDs 0 to N - 1), which has the TSC-deadline timer.</summary>
    public static string ExpectedOutput(int cpus, bool tscDeadline = true)
    {
        var n = Math.Min(cpus, MaxCpus);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"smp: {n} CPUs in the ACPI MADT, APIC IDs");
        for (var i = 0; i < n; i++) text.Append(CultureInfo.InvariantCulture, $" {i}");
        text.Append('\n');
        var combined = 0u;
        for (var i = 0; i < n; i++)
        {
            var (start, end) = Slice(i, n);
            var sum = Sum(start, end);
            combined = unchecked(combined + sum);
            text.Append(CultureInfo.InvariantCulture, $"cpu {i} apic {i}: sum of [{start}, {end}) = {sum:X8}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"combined {combined:X8}, on one CPU {Sum(0, RangeSize):X8}: ok\n");
        for (var i = 0; i < n; i++)
        {
            var ap = i == 0 ? 0 : 1;
            var logical = (LogicalMask >> i) & 1;
            text.Append(CultureInfo.InvariantCulture, $"ipi cpu {i}: fixed {ap} nmi {ap} broadcast {ap} logical {logical}\n");
        }

        for (var i = 0; i < n; i++) text.Append(CultureInfo.InvariantCulture, $"timer cpu {i}: one-shot 1 periodic {Ticks}\n");
        text.Append("tsc-deadline:");
        if (tscDeadline)
        {
            for (var i = 0; i < n; i++) text.Append(" 1");
        }
        else
        {
            text.Append(" n/a");
        }

        text.Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"ioapic: pit {Ticks} rtc {Ticks} com1 {Ticks}\n");
        text.Append("unexpected interrupts: 0\n");
        text.Append("Goodbye.\n");
        return text.ToString();
    }

    /// <summary>The output on one CPU; see <see cref="ExpectedOutput(int, bool)"/>.</summary>
    public override string ExpectedOutput() => ExpectedOutput(1);

    private protected override void EmitProgram(GuestCode code)
    {
        var a = code.Asm;
        var labels = new Labels(a);
        code.InitSerial();
        // The 8259 pair stays masked: every interrupt here comes through the local and I/O APICs.
        a.mov(al, 0xFF);
        a.@out(0x21, al);
        a.@out(0xA1, al);

        a.mov(edi, DataArea);
        a.mov(ecx, DataAreaSize / 4);
        a.xor(eax, eax);
        a.rep.stosd();
        a.mov(edi, IdToIndex);
        a.mov(ecx, 256);
        a.mov(al, 0xFF);
        a.rep.stosb();
        EmitIdt(code, labels);

        EmitFindMadt(code);
        EmitPrintCpus(code);

        a.mov(eax, __dword_ptr[LocalApicBase + ApicIdRegister]);
        a.shr(eax, 24);
        a.movzx(ebx, __byte_ptr[eax + IdToIndex]);
        a.mov(__dword_ptr[BspIndex], ebx);
        a.mov(edi, ebx);
        a.shl(edi, SlotShift);
        a.add(edi, Slots);
        a.call(labels.CpuSetUp);
        EmitStartAps(code, labels);

        a.mov(ebx, __dword_ptr[BspIndex]);
        a.mov(edi, ebx);
        a.shl(edi, SlotShift);
        a.add(edi, Slots);
        a.call(labels.CpuWork);
        EmitWaitAllDone(code);
        EmitPrintSums(code, labels);
        EmitIpis(code, labels);
        EmitPrintIpis(code);
        EmitPrintTimers(code);
        EmitIoApic(code);

        code.Print("unexpected interrupts: ");
        a.mov(eax, __dword_ptr[Unexpected]);
        code.PrintDecimal();
        code.Print("\nGoodbye.\n");
        code.Exit();

        EmitApEntry(code, labels);
        EmitCpuSetUp(code, labels);
        EmitCpuWork(code, labels);
        EmitSumRange(code, labels);
        EmitTimerTests(code, labels);
        EmitSendIpi(code, labels);
        EmitHandlers(code, labels);

        labels.Place(ref labels.Trampoline);
        a.db(SmpTrampoline.Code());
    }

    /// <summary>The labels shared between the program's parts.</summary>
    private sealed class Labels(Assembler a)
    {
        public Label CpuSetUp = a.CreateLabel("cpu_set_up");
        public Label CpuWork = a.CreateLabel("cpu_work");
        public Label SumRange = a.CreateLabel("sum_range");
        public Label TimerTests = a.CreateLabel("timer_tests");
        public Label SendIpi = a.CreateLabel("send_ipi");
        public Label ApEntry = a.CreateLabel("ap_entry");
        public Label Trampoline = a.CreateLabel("trampoline");
        public Label Exception = a.CreateLabel("exception");
        public Label Nmi = a.CreateLabel("nmi");
        public Label Default = a.CreateLabel("default");
        public Label Spurious = a.CreateLabel("spurious");
        public Label FixedIpi = a.CreateLabel("fixed_ipi");
        public Label BroadcastIpi = a.CreateLabel("broadcast_ipi");
        public Label LogicalIpi = a.CreateLabel("logical_ipi");
        public Label OneShot = a.CreateLabel("one_shot");
        public Label Periodic = a.CreateLabel("periodic");
        public Label Deadline = a.CreateLabel("deadline");
        public Label Pit = a.CreateLabel("pit");
        public Label Rtc = a.CreateLabel("rtc");
        public Label Com1 = a.CreateLabel("com1");

        private readonly Dictionary<ulong, Label> _getters = [];

        /// <summary>
        /// A routine that returns the address of <paramref name="target"/> in EAX: 32-bit code has no
        /// EIP-relative LEA, and the payload's addresses are known only once it is assembled.
        /// </summary>
        public Label AddressOf(Label target)
        {
            if (!_getters.TryGetValue(target.Id, out var getter))
            {
                getter = a.CreateLabel();
                _getters[target.Id] = getter;
            }

            return getter;
        }

        /// <summary>Places <paramref name="target"/> after its <see cref="AddressOf"/> routine: CALL next; next: POP EAX; ADD EAX, 5; RET.</summary>
        public void Place(ref Label target)
        {
            var getter = AddressOf(target);
            var next = a.CreateLabel();
            a.Label(ref getter);
            a.call(next);
            a.Label(ref next);
            // POP EAX; ADD EAX, 5 (83 C0 05, the imm8 form); RET: the 5 bytes between next and the target, spelled out so that no encoder choice moves it.
            a.db(0x58, 0x83, 0xC0, 0x05, 0xC3);
            a.Label(ref target);
        }
    }

    /// <summary>Spins until the dword at <paramref name="memory"/> is at least <paramref name="value"/>, or a bound runs out; uses ECX.</summary>
    private static void SpinUntilAtLeast(Assembler a, AssemblerMemoryOperand memory, uint value)
    {
        var again = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(ecx, SpinBound);
        a.Label(ref again);
        a.cmp(memory, value);
        a.jae(done);
        a.pause();
        a.dec(ecx);
        a.jnz(again);
        a.Label(ref done);
        // Callers may place their own label right after the wait; Iced wants an instruction per label.
        a.nop();
    }

    // Long enough for QEMU's TCG to start a vCPU thread or deliver a timer tick on a loaded host.
    private const int SpinBound = 1 << 27;

    /// <summary>EDI = the slot of CPU index EBX (0 to count - 1), EBP = loop counter; <paramref name="body"/> runs for each CPU in APIC-ID order.</summary>
    private static void ForEachCpuInIdOrder(Assembler a, Action body)
    {
        var next = a.CreateLabel();
        var loop = a.CreateLabel();
        a.xor(ebp, ebp);
        a.Label(ref loop);
        a.movzx(ebx, __byte_ptr[ebp + IdToIndex]);
        a.cmp(ebx, 0xFF);
        a.je(next);
        a.mov(edi, ebx);
        a.shl(edi, SlotShift);
        a.add(edi, Slots);
        body();
        a.Label(ref next);
        a.inc(ebp);
        a.cmp(ebp, 256);
        a.jb(loop);
    }

    /// <summary>Prints "cpu I apic A" for the slot at EDI, index EBX.</summary>
    private static void PrintCpuName(GuestCode code, string prefix)
    {
        code.Print(prefix);
        code.Asm.mov(eax, ebx);
        code.PrintDecimal();
    }
}
