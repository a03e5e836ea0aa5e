using Sim.Cpu.Bus;

namespace Sim.Platform;

/// <summary>
/// The 64 KiB port space: one handler slot per port, so that dispatch is an array index. A port that
/// no device claims floats high on the ISA bus, so it reads as all ones and ignores writes.
/// </summary>
public sealed class IoBus : IIoBus
{
    private readonly IPortDevice?[] _handlers = new IPortDevice?[65536];

    /// <summary>Claims ports [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) for <paramref name="device"/>.</summary>
    public void Register(ushort first, int count, IPortDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (count <= 0 || first + count > 65536)
            throw new ArgumentOutOfRangeException(nameof(count), $"Port range 0x{first:x}+{count} does not fit the 64 KiB port space.");
        for (var p = (int)first; p < first + count; p++)
        {
            if (_handlers[p] is { } existing && !ReferenceEquals(existing, device))
                throw new InvalidOperationException($"Port 0x{p:x4} is already claimed by {existing.GetType().Name}.");
            _handlers[p] = device;
        }
    }

    public IPortDevice? DeviceAt(ushort port) => _handlers[port];

    public uint Read(ushort port, int size)
    {
        var device = _handlers[port];
        if (device != null) return device.Read(port, size);
        return size switch { 1 => 0xFFu, 2 => 0xFFFFu, _ => 0xFFFF_FFFFu };
    }

    public void Write(ushort port, int size, uint value) => _handlers[port]?.Write(port, size, value);
}
