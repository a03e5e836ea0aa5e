using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sim.Images;

/// <summary>
/// Reads an image or module file without trusting what kind of file it is: a directory is named as
/// one, a FIFO with no writer reads as empty instead of blocking in open(2), and a file that never
/// ends (/dev/zero, /dev/urandom) is read only up to the guest's RAM size, since nothing larger can
/// be loaded. A regular file may be larger than RAM (a disk image served through the BIOS).
/// </summary>
public static partial class ImageFile
{
    /// <summary>The most bytes one file may hold: the largest array .NET allocates.</summary>
    public const long MaximumLength = 0x7FFF_FFC7;

    public static byte[] Read(string path, string what, ulong memorySize) => Read(path, what, memorySize, bounded: false);

    /// <summary>
    /// Reads a file that may hold at most <paramref name="maximumLength"/> bytes (a firmware ROM): a
    /// longer one, regular or not, is refused as larger than that.
    /// </summary>
    public static byte[] ReadAtMost(string path, string what, long maximumLength) =>
        Read(path, what, (ulong)Math.Clamp(maximumLength, 0, MaximumLength), bounded: true);

    private static byte[] Read(string path, string what, ulong memorySize, bool bounded)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0) throw new ImageFormatException("''", $"cannot read {what}: the file name is empty");
        if (Directory.Exists(path)) throw new ImageFormatException(path, $"cannot read {what}: it is a directory");
        try
        {
            using var stream = Open(path);
            var known = stream.CanSeek ? stream.Length : 0;
            var limit = bounded ? (long)memorySize : (long)Math.Min(Math.Max((ulong)known, memorySize), MaximumLength);
            var buffer = new MemoryStream((int)Math.Min(known, limit));
            var chunk = new byte[1 << 16];
            while (true)
            {
                var wanted = (int)Math.Min(chunk.Length, limit + 1 - buffer.Length);
                var read = stream.Read(chunk, 0, wanted);
                if (read == 0) break;
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit)
                {
                    throw new ImageFormatException(path, bounded || limit == MaximumLength
                        ? $"cannot read {what}: it is larger than {limit} bytes"
                        : $"cannot read {what}: it does not end within the guest's RAM size ({memorySize} bytes)");
                }
            }

            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            throw new ImageFormatException(path, $"cannot read {what}: {e.Message}", e);
        }
    }

    private static FileStream Open(string path)
    {
        if (!OperatingSystem.IsLinux()) return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        var descriptor = OpenDescriptor(path, ReadOnly | NonBlocking | CloseOnExec);
        if (descriptor < 0) throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        var handle = new SafeFileHandle(descriptor, ownsHandle: true);

        // Back to blocking reads: a FIFO that has a writer is read to its end like any file.
        if (SetStatusFlags(descriptor, SetFileStatusFlags, ReadOnly) < 0)
        {
            handle.Dispose();
            throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        }

        return new FileStream(handle, FileAccess.Read, 1);
    }

    private const int ReadOnly = 0, NonBlocking = 0x800, CloseOnExec = 0x80000;
    private const int SetFileStatusFlags = 4;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenDescriptor(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int SetStatusFlags(int descriptor, int command, int flags);
}
