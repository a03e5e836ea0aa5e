using Sim.Images;

namespace Sim.Fuzz.Cases;

/// <summary>
/// A valid image of one format (<see cref="ImageCorpus"/>), damaged (<see cref="ImageMutation"/>),
/// given to <see cref="ImageLoader"/> with random options (memory size, load address, command
/// line, sometimes a forced format); what loads then runs bounded.
/// </summary>
internal static class ImageGuest
{
    private static readonly ulong[] MemorySizes = [2UL << 20, 4UL << 20, 8UL << 20, 32UL << 20, 64UL << 20];

    public static FuzzProgram Generate(Random rng, FuzzSettings settings)
    {
        var seed = (ImageCorpus.Seed)rng.Next(5);
        var memory = rng.Next(6) == 0 ? (ulong)rng.NextInt64(2L << 20, 128L << 20) & ~0xFFFUL : MemorySizes[rng.Next(MemorySizes.Length)];
        var original = ImageCorpus.Image(seed, rng);
        var image = rng.Next(10) == 0 ? original : ImageMutation.Mutate(original, rng, memory);

        ulong? loadAddress = seed == ImageCorpus.Seed.Raw || rng.Next(8) == 0
            ? rng.Next(6) switch
            {
                0 => 0x7C00,
                1 => 0x10000,
                2 => 0x100000,
                3 => memory - (ulong)rng.Next(0x40000),
                4 => (ulong)rng.NextInt64(),
                _ => (ulong)rng.Next(0x1000000),
            }
            : null;
        var format = rng.Next(8) == 0 ? (ImageFormat)rng.Next(5) : ImageFormat.Auto;
        var commandLine = rng.Next(4) == 0 ? new string((char)rng.Next(32, 127), rng.Next(0x10000)) : "fuzz";
        return new FuzzProgram
        {
            Description = $"Image, {seed} seed, {image.Length} bytes, {memory >> 10} KiB RAM, format {format}{(loadAddress is { } a ? $", load address 0x{a:x}" : "")}",
            MemoryBytes = memory,
            Vendor = rng.Next(2) == 0 ? Sim.Cpu.CpuVendor.Intel : Sim.Cpu.CpuVendor.Amd,
            ImageBytes = image,
            LoadOptions = new ImageLoadOptions(LoadAddress: loadAddress, MemorySize: memory, CommandLine: commandLine, Format: format),
        };
    }
}
