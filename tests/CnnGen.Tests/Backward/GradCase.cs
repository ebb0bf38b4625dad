using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using CnnGen.Tests.Runtime;

namespace CnnGen.Tests.Backward;

/// <summary>
/// One case of the PyTorch backward conformance suite (tests/fixtures/conformance/grad, see its README.md): the forward case
/// it extends (op, attributes, geometry) and its tensors: the forward inputs and parameters, <c>grad_output</c>,
/// <c>grad_input</c>[, <c>grad_input2</c>], <c>grad.layer.*</c>; batch-norm cases (training mode) add <c>output_train</c> and
/// <c>running.layer.*</c>.
/// </summary>
public sealed class GradCase
{
    private static readonly Lazy<IReadOnlyList<GradCase>> AllCases = new(LoadManifest);

    private readonly Lazy<TensorSet> _tensors;

    private GradCase(JsonElement c)
    {
        Name = c.GetProperty("name").GetString()!;
        File = c.GetProperty("file").GetString()!;
        Mode = c.GetProperty("mode").GetString()!;
        ParamGrads = c.GetProperty("param_grads").EnumerateObject().ToDictionary(p => p.Name, p => ConformanceCase.ReadShape(p.Value), StringComparer.Ordinal);
        Forward = ConformanceCase.Get(Name);
        _tensors = new Lazy<TensorSet>(() => TensorSet.LoadSafeTensors(Path.Combine(Directory, File)));
    }

    /// <summary>Folder of the backward cases in the test output.</summary>
    public static string Directory => Path.Combine(ConformanceCase.Directory, "grad");

    /// <summary>Every case in manifest order (93).</summary>
    public static IReadOnlyList<GradCase> Cases => AllCases.Value;

    public string Name { get; }

    public string File { get; }

    /// <summary><c>eval</c>, or <c>train (batch statistics)</c> for the batch-norm cases.</summary>
    public string Mode { get; }

    public bool Training => Mode.StartsWith("train", StringComparison.Ordinal);

    /// <summary>Trained tensors (<c>layer.weight</c>, <c>layer.1.bias</c>...) and their shapes.</summary>
    public IReadOnlyDictionary<string, int[]> ParamGrads { get; }

    /// <summary>The forward conformance case with the same name.</summary>
    public ConformanceCase Forward { get; }

    public TensorSet Tensors => _tensors.Value;

    public override string ToString() => Name;

    private static IReadOnlyList<GradCase> LoadManifest()
    {
        string path = Path.Combine(Directory, "manifest.json");
        using JsonDocument document = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
        JsonElement root = document.RootElement;
        GradCase[] cases = root.GetProperty("cases").EnumerateArray().Select(c => new GradCase(c)).ToArray();
        int count = root.GetProperty("count").GetInt32();
        if (cases.Length != count)
        {
            throw new InvalidOperationException($"{path}: 'count' is {count} but there are {cases.Length} cases.");
        }

        return cases;
    }
}
