using System;
using System.Collections.Generic;
using System.IO;
using Mnist;

namespace CnnGen.Tests.Sample;

/// <summary>Fixture paths and small helpers shared by the MNIST sample tests.</summary>
internal static class SampleFiles
{
    public static string Image(string name) =>
        Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "images", name);

    public static string MnistImages =>
        Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "mnist", "t10k-images-idx3-ubyte.gz");

    public static string MnistLabels =>
        Path.Combine(TestContext.CurrentContext.TestDirectory, "fixtures", "mnist", "t10k-labels-idx1-ubyte.gz");

    /// <summary>The sample's data folder as the build copies it next to the tests.</summary>
    public static string DataDir => Path.Combine(TestContext.CurrentContext.TestDirectory, "data");

    /// <summary>Runs the sample's command line with <paramref name="trainers"/> for <c>train</c>; returns exit code, stdout, stderr.</summary>
    public static (int Code, string Out, string Err) RunSample(ITrainerFactory trainers, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = Mnist.Program.Run(args, stdout, stderr, trainers);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A fresh empty directory under the system temp folder.</summary>
    public static string NewTempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "cnngen-sample-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Assembles a PNG from raw chunks, with correct CRCs.</summary>
    public static byte[] BuildPng(params (string Type, byte[] Data)[] chunks)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        foreach (var (type, data) in chunks)
        {
            WriteChunk(ms, type, data);
        }

        return ms.ToArray();
    }

    public static void WriteChunk(Stream s, string type, byte[] data)
    {
        byte[] typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        var len = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        s.Write(typeBytes);
        s.Write(data);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(len, System.IO.Hashing.Crc32.HashToUInt32([.. typeBytes, .. data]));
        s.Write(len);
    }

    public static byte[] Ihdr(uint width, uint height, byte depth, byte colorType, byte interlace = 0)
    {
        var d = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(d, width);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(4), height);
        d[8] = depth;
        d[9] = colorType;
        d[12] = interlace;
        return d;
    }

    public static byte[] Zlib(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(ms, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(raw);
        }

        return ms.ToArray();
    }

    /// <summary>Splits a PNG into (offset, length, type) of each chunk; stops at the first chunk that does not fit.</summary>
    public static List<(int Offset, int Length, string Type)> Chunks(byte[] png)
    {
        var list = new List<(int, int, string)>();
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            int len = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            if (len < 0 || len > png.Length - pos - 12)
            {
                break;
            }

            list.Add((pos, len, System.Text.Encoding.ASCII.GetString(png, pos + 4, 4)));
            pos += 12 + len;
        }

        return list;
    }

    /// <summary>Recomputes the CRC of the chunk at <paramref name="offset"/>.</summary>
    public static void FixCrc(byte[] png, int offset, int length)
    {
        uint crc = System.IO.Hashing.Crc32.HashToUInt32(png.AsSpan(offset + 4, 4 + length));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(offset + 8 + length), crc);
    }
}
