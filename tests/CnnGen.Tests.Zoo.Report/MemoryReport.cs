using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.CompilerServices;
using CnnGen.Tests.Zoo;

namespace CnnGen.Tests.Zoo.Report;

/// <summary>
/// Memory after Load, one network per fresh process: managed bytes (GC.GetTotalMemory after a full blocking
/// collection) before the weights, with the unpacked weights, with the weights and the loaded network, with the network
/// alone (weights dropped), after one prediction (the thread's workspace), bytes allocated by Load, and the process's
/// peak working set.
/// </summary>
internal static class MemoryReport
{
    public static void Measure(ZooNetwork network)
    {
        var model = ZooModel.Load(network.Model);
        var input = ZooWeights.Input(0);
        var output = new float[ZooModel.Classes];
        long baseline = Collect();

        var (weak, weightBytes, withBoth, net, loadMs, allocated) = BuildAndLoad(model, network);
        // The weights are out of scope here: what stays is what the network holds.
        long netOnly = Collect();
        net.Predict(input, output);
        long afterPredict = Collect();
        GC.KeepAlive(net);

        Console.WriteLine($"state_dict_bytes={weightBytes}");
        Console.WriteLine($"with_weights_and_net={withBoth - baseline}");
        Console.WriteLine($"net_after_weights_dropped={netOnly - baseline}");
        Console.WriteLine($"weights_collected={(!weak.TryGetTarget(out _)).ToString().ToLowerInvariant()}");
        Console.WriteLine($"after_first_predict={afterPredict - baseline}");
        Console.WriteLine($"workspace_bytes={network.WorkspaceFloats * 4L}");
        Console.WriteLine($"load_allocated={allocated}");
        Console.WriteLine($"load_ms={loadMs:F0}");
        Console.WriteLine($"peak_working_set={Process.GetCurrentProcess().PeakWorkingSet64}");
        Console.WriteLine($"gc_heap_after={GC.GetGCMemoryInfo().HeapSizeBytes}");
        Console.WriteLine($"width={net.VectorWidth}");
    }

    public static void Print(IReadOnlyList<ZooNetwork> networks)
    {
        Console.WriteLine("### Memory after Load (Auto width, one process per network)");
        Console.WriteLine();
        Console.WriteLine($"(load average {Program.LoadAverage()} on {Environment.ProcessorCount} cores when the table was printed)");
        Console.WriteLine();
        Console.WriteLine("| network | width | state_dict (formula tensors) | allocated by Load | held: weights + network | held by the network (weights dropped) | + first Predict (workspace) | workspace (WorkspaceFloats x 4) | held / state_dict | peak working set | Load (s) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var n in networks)
        {
            var v = Program.Values(Program.Child("memory-one", n.Model));
            long state = long.Parse(v["state_dict_bytes"]);
            long held = long.Parse(v["net_after_weights_dropped"]);
            if (v["weights_collected"] != "true")
            {
                throw new InvalidOperationException($"{n.Model}: the unpacked weights were not collected after Load");
            }

            Console.WriteLine($"| {n.Model} | {v["width"]} | {Program.Mb(state)} | {Program.Mb(long.Parse(v["load_allocated"]))} | {Program.Mb(long.Parse(v["with_weights_and_net"]))} | {Program.Mb(held)} | "
                + $"{Program.Mb(long.Parse(v["after_first_predict"]))} | {Program.Mb(long.Parse(v["workspace_bytes"]))} | {(double)held / state:F3} | {Program.Mb(long.Parse(v["peak_working_set"]))} | {double.Parse(v["load_ms"]) / 1000:F1} |");
        }

        Console.WriteLine();
    }

    /// <summary>
    /// Loads a network from a safetensors file in this (fresh) process: through the generated <c>Load(path)</c>, which
    /// reads one layer's tensors at a time, or as before through <c>Load(TensorSet.LoadSafeTensors(path))</c>, which holds
    /// the whole unpacked file and the packed weights at once. Prints the peak working set above the process before Load.
    /// </summary>
    public static void MeasureFile(ZooNetwork network, string file, bool viaTensorSet)
    {
        long baseline = Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        long before = process.WorkingSet64;
        var clock = Stopwatch.StartNew();
        var net = viaTensorSet
            ? network.Load(TensorSet.LoadSafeTensors(file), null)
            : (INetwork)network.Type.GetMethod("Load", [typeof(string), typeof(LoadOptions)])!.Invoke(null, [file, null])!;
        double ms = clock.Elapsed.TotalMilliseconds;
        process.Refresh();
        long held = Collect() - baseline;
        GC.KeepAlive(net);
        Console.WriteLine($"before_working_set={before}");
        Console.WriteLine($"peak_working_set={process.PeakWorkingSet64}");
        Console.WriteLine($"held={held}");
        Console.WriteLine($"load_ms={ms:F0}");
    }

    /// <summary>Peak memory of Load from a file, written once per network under artifacts/zoo-weights, then deleted.</summary>
    public static void PrintFiles(IReadOnlyList<ZooNetwork> networks)
    {
        string dir = System.IO.Path.Combine(Program.RepositoryRoot(), "artifacts", "zoo-weights");
        System.IO.Directory.CreateDirectory(dir);
        Console.WriteLine("### Loading from a file: peak memory (one process per network and way)");
        Console.WriteLine();
        Console.WriteLine($"(load average {Program.LoadAverage()} on {Environment.ProcessorCount} cores when the table was printed)");
        Console.WriteLine();
        Console.WriteLine("| network | file (float32 state_dict) | held by the network | Load(path): peak above the process before Load | / file | Load(TensorSet.LoadSafeTensors(path)): peak | / file | Load(path) (s) | via TensorSet (s) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var n in networks)
        {
            string file = System.IO.Path.Combine(dir, n.Model + ".safetensors");
            using (var stream = System.IO.File.Create(file))
            {
                TensorSet.SaveSafeTensors(stream, ZooWeights.Build(ZooModel.Load(n.Model)));
            }

            try
            {
                Collect();
                long size = new System.IO.FileInfo(file).Length;
                var path = Program.Values(Program.Child("memory-path-one", n.Model, file, "path"));
                var set = Program.Values(Program.Child("memory-path-one", n.Model, file, "tensors"));
                long Peak(Dictionary<string, string> v) => long.Parse(v["peak_working_set"]) - long.Parse(v["before_working_set"]);
                Console.WriteLine($"| {n.Model} | {Program.Mb(size)} | {Program.Mb(long.Parse(path["held"]))} | {Program.Mb(Peak(path))} | {(double)Peak(path) / size:F2} | "
                    + $"{Program.Mb(Peak(set))} | {(double)Peak(set) / size:F2} | {double.Parse(path["load_ms"]) / 1000:F1} | {double.Parse(set["load_ms"]) / 1000:F1} |");
            }
            finally
            {
                System.IO.File.Delete(file);
            }
        }

        Console.WriteLine();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference<TensorSet> Weights, long Bytes, long WithBoth, INetwork Net, double LoadMs, long Allocated) BuildAndLoad(ZooModel model, ZooNetwork network)
    {
        var weights = ZooWeights.Build(model);
        long bytes = weights.Sum(t => (long)t.Length) * sizeof(float);
        Collect();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var net = network.Load(weights, null);
        double ms = clock.Elapsed.TotalMilliseconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        long withBoth = Collect();
        GC.KeepAlive(weights);
        return (new WeakReference<TensorSet>(weights), bytes, withBoth, net, ms, allocated);
    }

    private static long Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
