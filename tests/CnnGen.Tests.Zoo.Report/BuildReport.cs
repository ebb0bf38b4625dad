using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using CnnGen.Tests.Zoo;

namespace CnnGen.Tests.Zoo.Report;

/// <summary>
/// The build time of a project holding one network: a throwaway project per network under artifacts/zoo-build (the
/// repository's Directory.Build.props applies, as for any project here) with the declaration file and the three
/// project references, restored first, then built alone (<c>--no-restore --no-dependencies</c>, references already
/// built) with ReportAnalyzer on. An empty project is the baseline.
/// </summary>
internal static partial class BuildReport
{
    public static void Print(IReadOnlyList<ZooNetwork> networks)
    {
        string root = Program.RepositoryRoot();
        var rows = new List<(string Name, Dictionary<string, string> V)> { ("(empty project)", Build(root, "empty", [])) };
        rows.AddRange(networks.Select(n => (n.Model, Build(root, n.Model, [n.SourceFile]))));
        if (networks.Count > 1)
        {
            rows.Add(($"all {networks.Count} together", Build(root, "all", networks.Select(n => n.SourceFile).ToArray())));
        }
        Console.WriteLine("### Build time of a project holding one network (dotnet build, Release, one project, references built)");
        Console.WriteLine();
        Console.WriteLine($"(load average {Program.LoadAverage()} on {Environment.ProcessorCount} cores when the table was printed)");
        Console.WriteLine();
        Console.WriteLine("| project | build (s) | csc task (s) | CnnGen generator in csc (s) | analyzers in csc (s) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, v) in rows)
        {
            Console.WriteLine($"| {name} | {v["build_s"]} | {v.GetValueOrDefault("csc_s", "?")} | {v.GetValueOrDefault("generator_s", "0")} | {v.GetValueOrDefault("analyzers_s", "?")} |");
        }

        Console.WriteLine();
    }

    private static Dictionary<string, string> Build(string root, string name, string[] sourceFiles)
    {
        string dir = Path.Combine(root, "artifacts", "zoo-build", name);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        string src = Path.Combine(root, "src");
        File.WriteAllText(Path.Combine(dir, $"Zoo.{name}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ReportAnalyzer>true</ReportAnalyzer>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{src}/Attributes/CnnGen.Attributes.csproj" />
                <ProjectReference Include="{src}/Runtime/CnnGen.Runtime.csproj" />
                <ProjectReference Include="{src}/Generator/CnnGen.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
            </Project>
            """);
        if (sourceFiles.Length == 0)
        {
            File.WriteAllText(Path.Combine(dir, "Empty.cs"), "namespace CnnGen.Tests.Zoo;\n\n/// <summary>Nothing.</summary>\npublic static class Empty;\n");
        }

        foreach (string file in sourceFiles)
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "declarations", file), Path.Combine(dir, file));
        }

        Run(dir, "restore", "-v:q");
        var clock = Stopwatch.StartNew();
        string log = Run(dir, "build", "-c", "Release", "--no-restore", "--no-dependencies", "-v:d", "-clp:PerformanceSummary");
        var v = new Dictionary<string, string> { ["build_s"] = clock.Elapsed.TotalSeconds.ToString("F1") };
        var csc = CscTask().Match(log);
        if (csc.Success)
        {
            v["csc_s"] = (double.Parse(csc.Groups[1].Value) / 1000).ToString("F1");
        }

        var generator = GeneratorLine().Match(log);
        if (generator.Success)
        {
            v["generator_s"] = double.Parse(generator.Groups[1].Value).ToString("F1");
        }

        var analyzers = AnalyzersLine().Match(log);
        if (analyzers.Success)
        {
            v["analyzers_s"] = double.Parse(analyzers.Groups[1].Value).ToString("F1");
        }

        return v;
    }

    private static string Run(string dir, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} in {dir} failed ({process.ExitCode}):\n{output[^Math.Min(output.Length, 4000)..]}\n{stderr.Result}");
        }

        return output;
    }

    [GeneratedRegex(@"^\s*(\d+) ms\s+Csc\s+\d+ calls", RegexOptions.Multiline)]
    private static partial Regex CscTask();

    [GeneratedRegex(@"^\s*([\d.]+)\s+\d+\s+CnnGen\.Generator\.CnnGenerator\s*$", RegexOptions.Multiline)]
    private static partial Regex GeneratorLine();

    [GeneratedRegex(@"Total analyzer execution time: ([\d.]+) seconds", RegexOptions.Multiline)]
    private static partial Regex AnalyzersLine();
}
