using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;

namespace CnnGen.Tests.Generator;

/// <summary>
/// Compares text with a committed <c>Snapshots/&lt;name&gt;.verified.cs</c> file. On a mismatch it writes
/// <c>.received.cs</c> beside it and fails with a line diff. Set <c>CNNGEN_ACCEPT_SNAPSHOTS=1</c> to accept.
/// </summary>
public static class Snapshot
{
    public static void Verify(string name, string actual, [CallerFilePath] string caller = "")
    {
        string dir = Path.Combine(Path.GetDirectoryName(caller)!, "..", "Snapshots");
        string verified = Path.GetFullPath(Path.Combine(dir, name + ".verified.cs"));
        string received = Path.ChangeExtension(verified, null).Replace(".verified", string.Empty) + ".received.cs";
        actual = actual.Replace("\r\n", "\n");
        if (Environment.GetEnvironmentVariable("CNNGEN_ACCEPT_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(verified)!);
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        if (!File.Exists(verified))
        {
            File.WriteAllText(received, actual);
            Assert.Fail($"no snapshot {verified}; review {received} and run the tests with CNNGEN_ACCEPT_SNAPSHOTS=1 to accept it");
        }

        string expected = File.ReadAllText(verified).Replace("\r\n", "\n");
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        var diff = new InlineDiffBuilder(new DiffPlex.Differ()).BuildDiffModel(expected, actual);
        var sb = new StringBuilder();
        int shown = 0;
        foreach (var line in diff.Lines)
        {
            if (line.Type == ChangeType.Unchanged || shown > 60)
            {
                continue;
            }

            sb.Append(line.Type == ChangeType.Inserted ? "+ " : "- ").Append(line.Text).Append('\n');
            shown++;
        }

        Assert.Fail($"generated code differs from {verified} (received: {received}; accept with CNNGEN_ACCEPT_SNAPSHOTS=1):\n{sb}");
    }
}
