using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using CnnGen.Tests.Zoo;

namespace CnnGen.Tests.Zoo.Report;

/// <summary>
/// <c>dotnet run -c Release --project tests/CnnGen.Tests.Zoo.Report -- [generator|memory|build|all] [model...]</c>:
/// prints Markdown tables for docs/ZOO.md. Each network is measured in a fresh child process (cold generator, clean
/// peak working set); <c>build</c> builds a throwaway project per network under artifacts/zoo-build.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        string command = args.Length > 0 ? args[0] : "all";
        if (command == "memory-path-one")
        {
            // memory-path-one MODEL FILE path|tensors: Load from a file, in a fresh process (what Print runs per network).
            MemoryReport.MeasureFile(ZooNetworks.Get(args[1]), args[2], viaTensorSet: args[3] == "tensors");
            return 0;
        }

        var models = args.Skip(1).ToArray();
        var networks = models.Length == 0 ? ZooNetworks.All.ToArray() : models.Select(ZooNetworks.Get).ToArray();
        switch (command)
        {
            case "generator-one":
                GeneratorReport.Measure(networks.Single());
                return 0;
            case "memory-one":
                MemoryReport.Measure(networks.Single());
                return 0;
            case "generator":
                GeneratorReport.Print(networks);
                return 0;
            case "memory":
                MemoryReport.Print(networks);
                MemoryReport.PrintFiles(networks);
                return 0;
            case "build":
                BuildReport.Print(networks);
                return 0;
            case "all":
                GeneratorReport.Print(networks);
                MemoryReport.Print(networks);
                MemoryReport.PrintFiles(networks);
                BuildReport.Print(networks);
                return 0;
            default:
                Console.Error.WriteLine("usage: CnnGen.Tests.Zoo.Report [generator|memory|build|all] [model...]");
                return 2;
        }
    }

    /// <summary>Runs this tool again in a child process and returns its standard output (one measurement's key=value lines).</summary>
    internal static string Child(params string[] args)
    {
        string self = typeof(Program).Assembly.Location;
        string host = Environment.ProcessPath!;
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        // Under the dotnet host (dotnet run, dotnet x.dll) the child needs the assembly; the apphost runs itself. (Not
        // GetFileNameWithoutExtension on the apphost: "CnnGen.Tests.Zoo.Report" has no extension, ".Report" is not one.)
        if (Path.GetFileName(host).Equals("dotnet", StringComparison.Ordinal) || Path.GetFileName(host).Equals("dotnet.exe", StringComparison.OrdinalIgnoreCase))
        {
            info.ArgumentList.Add(self);
        }

        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"child '{string.Join(' ', args)}' exited with {process.ExitCode}:\n{output}");
        }

        return output;
    }

    /// <summary>The key=value lines a child printed.</summary>
    internal static System.Collections.Generic.Dictionary<string, string> Values(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);

    /// <summary>The repository root (the folder holding CnnGen.sln) above the tool's output folder.</summary>
    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CnnGen.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("CnnGen.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The 1-minute load average (Linux), to judge how noisy a wall time is.</summary>
    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    internal static string Kb(long bytes) => (bytes / 1024.0).ToString("N0", CultureInfo.InvariantCulture) + " KB";

    internal static string Mb(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("N1", CultureInfo.InvariantCulture) + " MB";
}
