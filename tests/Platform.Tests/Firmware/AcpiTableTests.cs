using Sim.Platform.Firmware;

namespace Sim.Platform.Tests.Firmware;

/// <summary>The ACPI tables in memory, field by field against the offsets and values of the ACPI 6.5 specification.</summary>
[TestClass]
public sealed class AcpiTableTests
{
    [TestMethod]
    public void RsdpIsFoundByTheSpecSearchInTheEbdaAndInTheBiosArea()
    {
        using var machine = FirmwareMachine.Create();
        var found = FirmwareMachine.FindRsdps(machine);
        Assert.HasCount(2, found);
        Assert.IsTrue(found[0] >= 0x9FC00 && found[0] < 0xA0000, $"EBDA copy at 0x{found[0]:x}");
        Assert.IsTrue(found[1] >= 0xE0000 && found[1] < 0x100000, $"BIOS area copy at 0x{found[1]:x}");
        foreach (var at in found)
        {
            Assert.AreEqual(0UL, at % 16);
            var rsdp = machine.Bytes(at, 36);
            Assert.AreEqual(2, rsdp[15], "revision 2");
            Assert.AreEqual(36u, rsdp.U32(20), "length");
            Assert.AreEqual(0, rsdp.Sum(0, 20), "checksum of the first 20 bytes");
            Assert.AreEqual(0, rsdp.Sum(0, 36), "extended checksum");
            Assert.AreEqual(0, rsdp[33] | rsdp[34] | rsdp[35], "reserved");
            var xsdt = FirmwareMachine.Table(machine, rsdp.U64(24));
            Assert.AreEqual("XSDT", xsdt.Ascii(0, 4));
            Assert.AreEqual(rsdp.Ascii(9, 6), xsdt.Ascii(10, 6), "the RSDP's OEMID is the XSDT's");
            Assert.AreEqual("RSDT", FirmwareMachine.Table(machine, rsdp.U32(16)).Ascii(0, 4));
        }
        CollectionAssert.AreEqual(machine.Bytes(found[0], 36), machine.Bytes(found[1], 36));
    }

    [TestMethod]
    public void EveryTableHasItsSignatureLengthRevisionAndChecksum()
    {
        using var machine = FirmwareMachine.Create(cpus: 2);
        var tables = FirmwareMachine.Tables(machine);
        CollectionAssert.AreEquivalent(new[] { "RSDT", "XSDT", "FACP", "APIC", "HPET", "DSDT", "FACS" }, tables.Keys.ToArray());
        var minimumRevision = new Dictionary<string, int> { ["RSDT"] = 1, ["XSDT"] = 1, ["FACP"] = 3, ["APIC"] = 1, ["HPET"] = 1, ["DSDT"] = 2 };
        foreach (var (signature, (address, bytes)) in tables)
        {
            Assert.AreEqual(signature, bytes.Ascii(0, 4));
            Assert.IsTrue(address < 0x100000 && address >= 0xE0000, $"{signature} at 0x{address:x} lies in the reserved E0000h area");
            if (signature == "FACS") continue;
            Assert.AreEqual(0, bytes.Sum(0, bytes.Length), $"{signature} checksum");
            Assert.IsGreaterThanOrEqualTo(minimumRevision[signature], (int)bytes[8], $"{signature} revision");
            Assert.AreEqual("SIMPC ", bytes.Ascii(10, 6), $"{signature} OEMID");
        }
        var rsdt = tables["RSDT"].Bytes;
        var xsdt = tables["XSDT"].Bytes;
        Assert.AreEqual((xsdt.Length - 36) / 8, (rsdt.Length - 36) / 4);
        for (var i = 0; i < (rsdt.Length - 36) / 4; i++) Assert.AreEqual(xsdt.U64(36 + 8 * i), rsdt.U32(36 + 4 * i), "RSDT and XSDT list the same tables");
        Assert.AreEqual(244, tables["FACP"].Bytes.Length, "a revision 3 FADT is 244 bytes");
    }

    [TestMethod]
    public void FadtDescribesThePmBlockTheResetRegisterAndTheLegacyDevices()
    {
        using var machine = FirmwareMachine.Create();
        var tables = FirmwareMachine.Tables(machine);
        var f = tables["FACP"].Bytes;
        Assert.AreEqual((uint)tables["FACS"].Address, f.U32(36), "FIRMWARE_CTRL");
        Assert.AreEqual((uint)tables["DSDT"].Address, f.U32(40), "DSDT");
        Assert.AreEqual(tables["DSDT"].Address, f.U64(140), "X_DSDT");
        Assert.AreEqual(0UL, f.U64(132), "X_FIRMWARE_CTRL unused below 4 GiB");
        Assert.AreEqual((ushort)9, f.U16(46), "SCI_INT");
        Assert.AreEqual(0u, f.U32(48), "SMI_CMD: no mode change, ACPI is always enabled");
        Assert.AreEqual(0x600u, f.U32(56), "PM1a_EVT_BLK");
        Assert.AreEqual(0x604u, f.U32(64), "PM1a_CNT_BLK");
        Assert.AreEqual(0x608u, f.U32(76), "PM_TMR_BLK");
        Assert.AreEqual(0u, f.U32(60) | f.U32(68) | f.U32(72), "no PM1b, no PM2");
        Assert.AreEqual(4, f[88], "PM1_EVT_LEN");
        Assert.AreEqual(2, f[89], "PM1_CNT_LEN");
        Assert.AreEqual(4, f[91], "PM_TMR_LEN");
        Assert.IsGreaterThan(100, (int)f.U16(96), "P_LVL2_LAT above 100: no C2");
        Assert.IsGreaterThan(1000, (int)f.U16(98), "P_LVL3_LAT above 1000: no C3");
        Assert.AreEqual(0x32, f[108], "CENTURY: the CMOS century byte");
        Assert.AreEqual((ushort)0x3, f.U16(109), "IAPC_BOOT_ARCH: LEGACY_DEVICES | 8042");
        var flags = f.U32(112);
        foreach (var (bit, name) in new[] { (0, "WBINVD"), (2, "PROC_C1"), (5, "SLP_BUTTON"), (7, "RTC_S4"), (10, "RESET_REG_SUP"), (15, "USE_PLATFORM_CLOCK") })
            Assert.AreNotEqual(0u, flags & (1u << bit), name);
        Assert.AreEqual(0u, flags & (1u << 20), "not HW_REDUCED_ACPI");
        Assert.AreEqual(0u, flags & (1u << 18), "one CPU: no forced cluster mode");
        Assert.AreEqual(1, f[116], "RESET_REG in system I/O space");
        Assert.AreEqual(8, f[117], "RESET_REG is 8 bits wide");
        Assert.AreEqual(0, f[118], "RESET_REG bit offset");
        Assert.AreEqual(0xCF9UL, f.U64(120), "RESET_REG address");
        Assert.AreEqual(0x06, f[128], "RESET_VALUE");
        AssertGas(f, 148, 1, 32, 0x600, "X_PM1a_EVT_BLK");
        AssertGas(f, 172, 1, 16, 0x604, "X_PM1a_CNT_BLK");
        AssertGas(f, 208, 1, 32, 0x608, "X_PM_TMR_BLK");
        AssertGas(f, 160, 0, 0, 0, "X_PM1b_EVT_BLK");

        using var many = FirmwareMachine.Create(cpus: 9);
        Assert.AreNotEqual(0u, FirmwareMachine.Tables(many)["FACP"].Bytes.U32(112) & (1u << 18), "FORCE_APIC_CLUSTER_MODEL above 8 CPUs, as QEMU");
    }

    private static void AssertGas(byte[] t, int offset, int space, int width, ulong address, string name)
    {
        Assert.AreEqual(space, t[offset], $"{name} address space");
        Assert.AreEqual(width, t[offset + 1], $"{name} bit width");
        Assert.AreEqual(address, t.U64(offset + 4), $"{name} address");
    }

    [TestMethod]
    public void FacsIs64ByteAlignedWithItsLength()
    {
        using var machine = FirmwareMachine.Create();
        var (address, facs) = FirmwareMachine.Tables(machine)["FACS"];
        Assert.AreEqual(0UL, address % 64);
        Assert.AreEqual(64u, facs.U32(4));
        Assert.AreEqual(0u, facs.U32(12), "no firmware waking vector");
        Assert.AreEqual(0u, facs.U32(16), "global lock free");
    }

    [TestMethod]
    public void DsdtDeclaresS5WithTheSoftOffSleepType()
    {
        using var machine = FirmwareMachine.Create();
        var dsdt = FirmwareMachine.Tables(machine)["DSDT"].Bytes;
        // NameOp '_S5_' PackageOp PkgLength NumElements=4, then the elements (ZeroOp for SLP_TYP 0).
        byte[] expected = [0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00];
        Assert.AreEqual(0, ChipsetLayout.SoftOffSleepType);
        CollectionAssert.AreEqual(expected, dsdt[36..]);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    [DataRow(8)]
    public void MadtHasALocalApicPerCpuTheIoApicTheOverridesAndTheNmi(int cpus)
    {
        using var machine = FirmwareMachine.Create(cpus);
        var m = FirmwareMachine.Tables(machine)["APIC"].Bytes;
        Assert.AreEqual(0xFEE00000u, m.U32(36), "Local Interrupt Controller Address");
        Assert.AreEqual(1u, m.U32(40), "PCAT_COMPAT");
        var entries = new List<byte[]>();
        for (var at = 44; at < m.Length; at += m[at + 1]) entries.Add(m[at..(at + m[at + 1])]);
        var local = entries.Where(e => e[0] == 0).ToList();
        Assert.HasCount(cpus, local);
        for (var i = 0; i < cpus; i++)
        {
            Assert.AreEqual(8, local[i][1]);
            Assert.AreEqual(i, local[i][2], "ACPI processor UID");
            Assert.AreEqual(i, local[i][3], "APIC ID");
            Assert.AreEqual(1u, local[i].U32(4), "enabled");
        }
        var ioApic = entries.Single(e => e[0] == 1);
        Assert.AreEqual(12, ioApic[1]);
        Assert.AreEqual(cpus, ioApic[2], "I/O APIC ID");
        Assert.AreEqual(0xFEC00000u, ioApic.U32(4));
        Assert.AreEqual(0u, ioApic.U32(8), "GSI base");
        var overrides = entries.Where(e => e[0] == 2).ToList();
        Assert.HasCount(2, overrides);
        Assert.IsTrue(overrides.All(o => o[1] == 10 && o[2] == 0), "10-byte entries for the ISA bus");
        Assert.AreEqual(0, overrides[0][3]);
        Assert.AreEqual(2u, overrides[0].U32(4), "IRQ 0 on GSI 2");
        Assert.AreEqual((ushort)0, overrides[0].U16(8), "conforming to the ISA bus: edge, active high");
        Assert.AreEqual(9, overrides[1][3]);
        Assert.AreEqual(9u, overrides[1].U32(4));
        Assert.AreEqual((ushort)0b1101, overrides[1].U16(8), "SCI: level-triggered (11b), active high (01b)");
        var nmi = entries.Single(e => e[0] == 4);
        Assert.AreEqual(6, nmi[1]);
        Assert.AreEqual(0xFF, nmi[2], "all processors");
        Assert.AreEqual(1, nmi[5], "LINT1");
        Assert.HasCount(cpus + 4, entries);
    }

    [TestMethod]
    public void HpetTableDescribesTheTimerBlock()
    {
        using var machine = FirmwareMachine.Create();
        var h = FirmwareMachine.Tables(machine)["HPET"].Bytes;
        Assert.AreEqual(56, h.Length);
        var id = h.U32(36);
        Assert.AreEqual(0x8086u, id >> 16, "PCI vendor ID of the first timer block");
        Assert.AreNotEqual(0u, id & (1u << 15), "legacy replacement IRQ routing capable");
        Assert.AreNotEqual(0u, id & (1u << 13), "64-bit main counter");
        Assert.AreEqual(2u, (id >> 8) & 0x1F, "number of comparators - 1");
        Assert.AreNotEqual(0u, id & 0xFF, "hardware revision ID is not 0");
        Assert.AreEqual(0, h[40], "base address in system memory");
        Assert.AreEqual(0xFED00000UL, h.U64(44));
        Assert.AreEqual(0, h[52], "HPET number");
        Assert.AreNotEqual(0, (int)h.U16(53), "minimum clock tick");
    }

    [TestMethod]
    public void TheFwCfgTablesLinkedByTheirLoaderScriptAreTheTablesInMemory()
    {
        using var machine = FirmwareMachine.Create(cpus: 4);
        var items = FwCfgItems.For(machine.Config);
        var directory = items[FwCfgKey.FileDir];
        var files = new Dictionary<string, byte[]>();
        for (var i = 0; i < (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(directory); i++)
        {
            var e = directory.AsSpan(4 + 64 * i, 64);
            var name = System.Text.Encoding.ASCII.GetString(e[8..]).TrimEnd('\0');
            files[name] = items[System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(e[4..])];
        }
        var loader = BiosLinkerLoader.Parse(files["etc/table-loader"]);
        var allocations = loader.Commands.OfType<BiosLinkerLoader.Allocate>().ToDictionary(a => a.File);
        Assert.AreEqual(BiosLinkerLoader.ZoneFSeg, allocations["etc/acpi/rsdp"].Zone);
        Assert.AreEqual(64u, allocations["etc/acpi/tables"].Align);
        var rsdpAddress = FirmwareMachine.FindRsdps(machine)[1];
        var tablesAddress = FirmwareMachine.Tables(machine)["FACS"].Address;
        var placed = loader.Apply(
            new Dictionary<string, byte[]> { ["etc/acpi/rsdp"] = files["etc/acpi/rsdp"], ["etc/acpi/tables"] = files["etc/acpi/tables"] },
            new Dictionary<string, ulong> { ["etc/acpi/rsdp"] = rsdpAddress, ["etc/acpi/tables"] = tablesAddress });
        CollectionAssert.AreEqual(machine.Bytes(rsdpAddress, 36), placed["etc/acpi/rsdp"]);
        CollectionAssert.AreEqual(machine.Bytes(tablesAddress, placed["etc/acpi/tables"].Length), placed["etc/acpi/tables"]);
    }
}
