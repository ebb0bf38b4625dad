using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using CnnGen;

namespace CnnGen.Tests.Runtime;

/// <summary>One node of a 2-node <c>Sequential</c> conformance case.</summary>
public sealed class ConformanceNode
{
    internal ConformanceNode(JsonElement node)
    {
        Op = node.GetProperty("op").GetString()!;
        Attrs = node.TryGetProperty("attrs", out JsonElement attrs) ? attrs.Clone() : default;
        Derived = node.TryGetProperty("derived", out JsonElement derived) ? derived.Clone() : default;
        ParamPrefix = node.GetProperty("param_prefix").GetString()!;
        InputShape = ConformanceCase.ReadShape(node.GetProperty("input_shape"));
        OutputShape = ConformanceCase.ReadShape(node.GetProperty("output_shape"));
    }

    /// <summary>PyTorch module class, e.g. <c>ZeroPad2d</c>, <c>Conv2d</c>.</summary>
    public string Op { get; }

    /// <summary>Constructor arguments with every default explicit.</summary>
    public JsonElement Attrs { get; }

    /// <summary>Resolved geometry (conv/pool/pad/flatten), or <c>default</c> (ValueKind Undefined) when absent.</summary>
    public JsonElement Derived { get; }

    /// <summary>Prefix of this node's parameters in the case file, e.g. <c>layer.1.</c>.</summary>
    public string ParamPrefix { get; }

    /// <summary>Input shape including the batch dimension.</summary>
    public int[] InputShape { get; }

    /// <summary>Output shape including the batch dimension.</summary>
    public int[] OutputShape { get; }

    /// <summary>Geometry from <see cref="Derived"/> (conv and pool nodes only).</summary>
    public ConformanceGeometry Geometry => ConformanceGeometry.From(Derived, Op);

    public override string ToString() => Op;
}

/// <summary>Resolved conv/pool geometry from a case's <c>derived</c> object.</summary>
public sealed record ConformanceGeometry(
    int KernelH, int KernelW, int StrideH, int StrideW, int DilationH, int DilationW,
    int PadTop, int PadLeft, int PadBottom, int PadRight, int OutH, int OutW)
{
    internal static ConformanceGeometry From(JsonElement derived, string what)
    {
        if (derived.ValueKind != JsonValueKind.Object || !derived.TryGetProperty("kernel_hw", out _))
        {
            throw new InvalidOperationException($"{what} has no conv/pool geometry in 'derived'.");
        }

        int[] k = ConformanceCase.ReadShape(derived.GetProperty("kernel_hw"));
        int[] s = ConformanceCase.ReadShape(derived.GetProperty("stride_hw"));
        int[] d = ConformanceCase.ReadShape(derived.GetProperty("dilation_hw"));
        int[] o = ConformanceCase.ReadShape(derived.GetProperty("out_hw"));
        return new ConformanceGeometry(
            k[0], k[1], s[0], s[1], d[0], d[1],
            derived.GetProperty("pad_top").GetInt32(), derived.GetProperty("pad_left").GetInt32(),
            derived.GetProperty("pad_bottom").GetInt32(), derived.GetProperty("pad_right").GetInt32(),
            o[0], o[1]);
    }
}

/// <summary>
/// One case of the PyTorch per-layer conformance suite (tests/fixtures/conformance, see its README.md):
/// its manifest entry plus lazy access to its tensors. Batch is 2 in every case; shapes include the batch dimension.
/// </summary>
public sealed class ConformanceCase
{
    private static readonly Lazy<IReadOnlyList<ConformanceCase>> AllCases = new(LoadManifest);

    private readonly Lazy<TensorSet> _tensors;

    private ConformanceCase(JsonElement c)
    {
        Index = c.GetProperty("index").GetInt32();
        Name = c.GetProperty("name").GetString()!;
        File = c.GetProperty("file").GetString()!;
        Op = c.GetProperty("op").GetString()!;
        Attrs = c.GetProperty("attrs").Clone();
        AttrsGiven = c.TryGetProperty("attrs_given", out JsonElement given) ? given.Clone() : default;
        Derived = c.TryGetProperty("derived", out JsonElement derived) && derived.ValueKind == JsonValueKind.Object ? derived.Clone() : default;
        InputNames = c.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()!).ToArray();
        InputShapes = c.GetProperty("input_shapes").EnumerateArray().Select(ReadShape).ToArray();
        OutputShape = ReadShape(c.GetProperty("output_shape"));
        Params = c.TryGetProperty("params", out JsonElement ps) && ps.ValueKind == JsonValueKind.Object
            ? ps.EnumerateObject().ToDictionary(p => p.Name, p => ReadShape(p.Value), StringComparer.Ordinal)
            : new Dictionary<string, int[]>(StringComparer.Ordinal);
        ExactExpected = c.GetProperty("exact_expected").GetBoolean();
        JsonElement tolerance = c.GetProperty("tolerance");
        Atol = tolerance.GetProperty("atol").GetDouble();
        Rtol = tolerance.GetProperty("rtol").GetDouble();
        Note = c.TryGetProperty("note", out JsonElement note) ? note.GetString() ?? string.Empty : string.Empty;
        Nodes = c.TryGetProperty("nodes", out JsonElement nodes) && nodes.ValueKind == JsonValueKind.Array
            ? nodes.EnumerateArray().Select(n => new ConformanceNode(n)).ToArray()
            : Array.Empty<ConformanceNode>();
        _tensors = new Lazy<TensorSet>(() => TensorSet.LoadSafeTensors(FilePath));
    }

    /// <summary>Folder holding manifest.json, README.md and cases/ in the test output.</summary>
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures", "conformance");

    /// <summary>Every case in manifest order.</summary>
    public static IReadOnlyList<ConformanceCase> Cases => AllCases.Value;

    /// <summary>Position in the manifest.</summary>
    public int Index { get; }

    /// <summary>Case name (also the file name without extension).</summary>
    public string Name { get; }

    /// <summary>File path relative to the conformance folder, e.g. <c>cases/relu.safetensors</c>.</summary>
    public string File { get; }

    /// <summary>Absolute path of the case's safetensors file.</summary>
    public string FilePath => Path.Combine(Directory, File);

    /// <summary>PyTorch module class, <c>Add</c>, <c>Cat</c> or <c>Sequential</c>.</summary>
    public string Op { get; }

    /// <summary>Constructor arguments with every default explicit (empty object for Sequential).</summary>
    public JsonElement Attrs { get; }

    /// <summary>Only the arguments the case set explicitly.</summary>
    public JsonElement AttrsGiven { get; }

    /// <summary>Resolved conv/pool geometry, or <c>default</c> (ValueKind Undefined) when the case has none.</summary>
    public JsonElement Derived { get; }

    /// <summary>Geometry from <see cref="Derived"/> (conv and pool cases only).</summary>
    public ConformanceGeometry Geometry => ConformanceGeometry.From(Derived, Name);

    /// <summary>Names of the input tensors (<c>input</c>, and <c>input2</c> for Add/Cat).</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Input shapes including the batch dimension (2).</summary>
    public IReadOnlyList<int[]> InputShapes { get; }

    /// <summary>Output shape including the batch dimension (2).</summary>
    public int[] OutputShape { get; }

    /// <summary>Stored parameters: tensor name to shape.</summary>
    public IReadOnlyDictionary<string, int[]> Params { get; }

    /// <summary>True for ops that only select/copy values: the result must match exactly (tolerance 0).</summary>
    public bool ExactExpected { get; }

    /// <summary>Absolute tolerance (0 when <see cref="ExactExpected"/>).</summary>
    public double Atol { get; }

    /// <summary>Relative tolerance (0 when <see cref="ExactExpected"/>).</summary>
    public double Rtol { get; }

    /// <summary>One-line description of the semantics under test.</summary>
    public string Note { get; }

    /// <summary>Nodes of a Sequential case (empty otherwise).</summary>
    public IReadOnlyList<ConformanceNode> Nodes { get; }

    /// <summary>Batch size (2 in every case).</summary>
    public int Batch => InputShapes[0][0];

    /// <summary>All tensors of the case (loaded once).</summary>
    public TensorSet Tensors => _tensors.Value;

    /// <summary>The first input, shape <c>InputShapes[0]</c>.</summary>
    public Tensor Input => Tensors.Get("input");

    /// <summary>The second input (Add/Cat only).</summary>
    public Tensor Input2 => Tensors.Get("input2");

    /// <summary>The expected output, shape <see cref="OutputShape"/>.</summary>
    public Tensor Output => Tensors.Get("output");

    /// <summary>The case's parameters, addressed without the <c>layer.</c> prefix (e.g. <c>weight</c>, <c>1.running_var</c>).</summary>
    public TensorSet Layer => Tensors.WithPrefix("layer.");

    /// <summary>Finds a case by name.</summary>
    public static ConformanceCase Get(string name) =>
        Cases.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"No conformance case named '{name}'.", nameof(name));

    /// <summary>Every case as NUnit test data (argument: the case; display name: the case name).</summary>
    public static IEnumerable<TestCaseData> All() => ToData(Cases);

    /// <summary>Cases whose <see cref="Op"/> is one of <paramref name="ops"/>, as NUnit test data.</summary>
    public static IEnumerable<TestCaseData> ByOp(params string[] ops) =>
        ToData(Cases.Where(c => ops.Contains(c.Op, StringComparer.Ordinal)));

    /// <summary>Cases matching a predicate, as NUnit test data.</summary>
    public static IEnumerable<TestCaseData> Where(Func<ConformanceCase, bool> predicate) => ToData(Cases.Where(predicate));

    /// <summary>Reads an integer from <paramref name="attrs"/>.</summary>
    public static int Int(JsonElement attrs, string key) => attrs.GetProperty(key).GetInt32();

    /// <summary>Reads a boolean from <paramref name="attrs"/>.</summary>
    public static bool Bool(JsonElement attrs, string key) => attrs.GetProperty(key).GetBoolean();

    /// <summary>Reads a float from <paramref name="attrs"/>.</summary>
    public static float Float(JsonElement attrs, string key) => (float)attrs.GetProperty(key).GetDouble();

    /// <summary>True when <paramref name="attrs"/> has <paramref name="key"/> and it is not null.</summary>
    public static bool Has(JsonElement attrs, string key) =>
        attrs.ValueKind == JsonValueKind.Object && attrs.TryGetProperty(key, out JsonElement v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>Reads a PyTorch int-or-(H, W) attribute (a scalar applies to both axes).</summary>
    public static (int H, int W) Pair(JsonElement attrs, string key)
    {
        JsonElement v = attrs.GetProperty(key);
        return v.ValueKind == JsonValueKind.Array ? (v[0].GetInt32(), v[1].GetInt32()) : (v.GetInt32(), v.GetInt32());
    }

    /// <summary>Reads a JSON array of integers.</summary>
    public static int[] ReadShape(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>Product of the dimensions.</summary>
    public static int Elements(IEnumerable<int> shape) => shape.Aggregate(1, (a, b) => checked(a * b));

    /// <summary>
    /// Asserts <c>|actual - expected| &lt;= atol + rtol*|expected|</c> element by element (NaN must match NaN, infinities must match exactly).
    /// On failure reports the number of failing elements and the worst one (index, expected, actual, error, bound).
    /// With atol = rtol = 0 this is an exact numeric comparison (-0 equals +0).
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string context)
    {
        if (expected.Length != actual.Length)
        {
            Assert.Fail($"{context}: expected {expected.Length} values, got {actual.Length}.");
        }

        int failures = 0;
        int worst = -1;
        double worstExcess = double.NegativeInfinity;
        double maxAbs = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i];
            double a = actual[i];
            double excess; // error minus bound; > 0 means failure
            if (double.IsNaN(e) || double.IsNaN(a))
            {
                excess = double.IsNaN(e) && double.IsNaN(a) ? double.NegativeInfinity : double.PositiveInfinity;
            }
            else if (double.IsInfinity(e) || double.IsInfinity(a))
            {
                excess = e == a ? double.NegativeInfinity : double.PositiveInfinity;
            }
            else
            {
                double error = Math.Abs(a - e);
                maxAbs = Math.Max(maxAbs, error);
                excess = error - (atol + (rtol * Math.Abs(e)));
            }

            if (excess > 0)
            {
                failures++;
            }

            if (excess > worstExcess || worst < 0)
            {
                worstExcess = excess;
                worst = i;
            }
        }

        if (failures > 0)
        {
            double e = expected[worst];
            double a = actual[worst];
            Assert.Fail(string.Create(
                CultureInfo.InvariantCulture,
                $"{context}: {failures} of {expected.Length} values differ (atol {atol}, rtol {rtol}); worst at index {worst}: expected {expected[worst]:R}, actual {actual[worst]:R}, |diff| {Math.Abs(a - e):G6} > bound {atol + (rtol * Math.Abs(e)):G6}; max |diff| over finite values {maxAbs:G6}."));
        }
    }

    /// <summary><see cref="AssertClose(ReadOnlySpan{float}, ReadOnlySpan{float}, double, double, string)"/> with this case's tolerance.</summary>
    public void AssertClose(ReadOnlySpan<float> actual, string? context = null) =>
        AssertClose(Output.Data, actual, Atol, Rtol, context ?? Name);

    public override string ToString() => Name;

    private static IEnumerable<TestCaseData> ToData(IEnumerable<ConformanceCase> cases) =>
        cases.Select(c => new TestCaseData(c).SetArgDisplayNames(c.Name));

    private static IReadOnlyList<ConformanceCase> LoadManifest()
    {
        string path = Path.Combine(Directory, "manifest.json");
        using JsonDocument document = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
        JsonElement root = document.RootElement;
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => new ConformanceCase(c)).ToArray();
        int count = root.GetProperty("count").GetInt32();
        if (cases.Length != count)
        {
            throw new InvalidOperationException($"{path}: 'count' is {count} but there are {cases.Length} cases.");
        }

        return cases;
    }
}
