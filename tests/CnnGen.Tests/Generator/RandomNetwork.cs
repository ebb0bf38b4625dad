using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Text;
using CnnGen.Tests.Backward;

namespace CnnGen.Tests.Generator;

/// <summary>
/// A random valid network: its attribute declaration, random weights, and a forward pass through the scalar
/// <see cref="Reference"/> layers (which share nothing with the generator's emitter). The same network is recorded as a
/// definition for the test's <see cref="ReferenceNetwork{T}"/>, which adds training mode and the backward pass in any precision.
/// </summary>
public sealed class RandomNetwork
{
    private sealed record Shape(int C, int H, int W, bool Flat)
    {
        public int Size => C * H * W;
    }

    private sealed class Node
    {
        public string Name = "";
        public string Attribute = "";
        public List<string> Inputs = new();
        public Shape Out = null!;
        public Func<List<float[]>, float[]> Run = null!;
        public Action<IReferenceNetworkBuilder> Define = null!;
    }

    private readonly List<Node> _nodes = new();
    private readonly Dictionary<string, Shape> _shapes = new();
    private readonly List<Tensor> _weights = new();
    private readonly Random _rng;

    public string ClassName { get; }
    public string Declaration { get; private set; } = "";
    public TensorSet Weights => new(_weights);
    public int InputSize { get; private set; }
    public int OutputSize => _nodes[^1].Out.Size;

    private RandomNetwork(int seed, bool graphs)
    {
        _rng = new Random(seed);
        ClassName = "Random" + seed.ToString(CultureInfo.InvariantCulture);
        Build(graphs);
    }

    public static RandomNetwork Create(int seed, bool graphs) => new(seed, graphs);

    private int R(int lo, int hi) => _rng.Next(lo, hi + 1);

    private bool Coin(double p = 0.5) => _rng.NextDouble() < p;

    private T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];

    private static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture) + "f";

    private float[] RandomArray(int n, float scale)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)((_rng.NextDouble() * 2) - 1) * scale;
        }

        return a;
    }

    private string Last => _nodes.Count == 0 ? "input" : _nodes[^1].Name;

    private Shape Cur => _shapes[Last];

    /// <summary>Adds a node: its attribute, output shape, float reference forward and its definition for <see cref="ReferenceNetwork{T}"/> (given the node's name).</summary>
    private void Add(string attr, Shape outShape, Func<List<float[]>, float[]> run, Action<IReferenceNetworkBuilder, string> define, params string[] inputs)
    {
        string name = "n" + _nodes.Count.ToString(CultureInfo.InvariantCulture);
        var node = new Node { Name = name, Out = outShape, Run = run, Define = b => define(b, name) };
        node.Inputs.AddRange(inputs.Length == 0 ? new[] { Last } : inputs);
        bool from = inputs.Length > 0 && !attr.StartsWith("Add", StringComparison.Ordinal) && !attr.StartsWith("Concat", StringComparison.Ordinal) && !attr.StartsWith("Multiply", StringComparison.Ordinal);
        string named = $"Name = \"{name}\"" + (from ? $", From = \"{inputs[0]}\"" : string.Empty);
        node.Attribute = attr.EndsWith(")", StringComparison.Ordinal)
            ? (attr.EndsWith("()", StringComparison.Ordinal) ? attr[..^1] + named + ")" : attr[..^1] + ", " + named + ")")
            : attr + "(" + named + ")";
        _nodes.Add(node);
        _shapes[name] = outShape;
    }

    private Activation RandomActivation() => Pick(Activation.None, Activation.None, Activation.Relu, Activation.Relu6, Activation.LeakyRelu, Activation.Sigmoid, Activation.Tanh, Activation.SiLU);

    private void Build(bool graphs)
    {
        var input = new Shape(Pick(1, 2, 3, 4, 5, 8, 13, 16), R(4, 17), R(4, 17), false);
        InputSize = input.Size;
        _shapes["input"] = input;
        int blocks = R(1, 4);
        for (int b = 0; b < blocks; b++)
        {
            int choice = R(0, graphs ? 11 : 7);
            if (Cur.Flat)
            {
                break;
            }

            switch (choice)
            {
                case 0:
                case 1:
                case 2:
                    AddConv();
                    break;
                case 3:
                    AddPool();
                    break;
                case 4:
                    AddStandaloneActivation();
                    break;
                case 5:
                    AddConv();
                    AddBatchNorm();
                    break;
                case 6:
                    AddDepthwise();
                    break;
                case 7:
                    AddAdaptivePool();
                    break;
                case 8:
                case 9:
                    AddResidual();
                    break;
                case 10:
                    AddConcat();
                    break;
                default:
                    AddMultiply();
                    break;
            }
        }

        switch (R(0, 4))
        {
            case 0:
                AddGlobalPool();
                break;
            case 1:
            case 2:
                AddFlattenDense();
                break;
            case 3:
                AddFlattenDense();
                Add("Softmax", Cur, x => { var y = new float[x[0].Length]; Reference.Softmax(x[0], x[0].Length, 1, y); return y; }, (b, name) => b.Softmax(name));
                break;
        }

        var sb = new StringBuilder();
        var s = _shapes["input"];
        sb.Append($"[Network, Input({s.C}, {s.H}, {s.W})]\n");
        foreach (var n in _nodes)
        {
            sb.Append('[').Append(n.Attribute).Append("]\n");
        }

        sb.Append($"public partial class {ClassName};\n");
        Declaration = sb.ToString();
    }

    /// <summary>An output size, or (0, 0) when the window does not fit (the reference throws then).</summary>
    private static (int, int) Fits(Func<(int, int)> size)
    {
        try
        {
            return size();
        }
        catch (ArgumentException)
        {
            return (0, 0);
        }
    }

    private string ActArgs(Activation act, float alpha) =>
        act == Activation.None ? string.Empty : $", Activation = Activation.{act}" + (act == Activation.LeakyRelu ? $", Alpha = {F(alpha)}" : string.Empty);

    private static float[] Activate(float[] x, Activation act, float alpha)
    {
        if (act == Activation.None)
        {
            return x;
        }

        var y = new float[x.Length];
        Reference.Activate(x, y, act, alpha);
        return y;
    }

    private void AddConv(int? forceFilters = null, bool same = false, string? from = null)
    {
        var x = from is null ? Cur : _shapes[from];
        for (int attempt = 0; attempt < 20; attempt++)
        {
            int filters = forceFilters ?? R(1, 20);
            int kh = R(1, 5), kw = Coin(0.7) ? kh : R(1, 5);
            int sh = same ? 1 : Pick(1, 1, 1, 2, 3), sw = same ? 1 : (Coin(0.7) ? sh : Pick(1, 2));
            int dh = Pick(1, 1, 1, 2), dw = Coin(0.7) ? dh : Pick(1, 2);
            int pt, pl, pb, pr;
            bool useSame = same || (sh == 1 && sw == 1 && Coin(0.2));
            if (useSame)
            {
                int th = dh * (kh - 1), tw = dw * (kw - 1);
                (pt, pb, pl, pr) = (th / 2, th - (th / 2), tw / 2, tw - (tw / 2));
            }
            else
            {
                (pt, pl, pb, pr) = (R(0, 2), R(0, 2), R(0, 2), R(0, 2));
            }

            var (oh, ow) = Fits(() => Reference.ConvOutputSize(x.H, x.W, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw));
            if (oh < 1 || ow < 1)
            {
                continue;
            }

            int groups = 1;
            if (Coin(0.25))
            {
                var divisors = Enumerable.Range(2, 8).Where(g => x.C % g == 0).ToList();
                if (divisors.Count > 0)
                {
                    groups = divisors[_rng.Next(divisors.Count)];
                    filters = groups * R(1, 3);
                }
            }

            bool bias = Coin(0.8);
            var act = RandomActivation();
            float alpha = (float)Math.Round(_rng.NextDouble() * 0.3, 3);
            string name = "n" + _nodes.Count.ToString(CultureInfo.InvariantCulture);
            var w = RandomArray(filters * (x.C / groups) * kh * kw, 0.6f);
            var bArr = bias ? RandomArray(filters, 0.5f) : Array.Empty<float>();
            _weights.Add(new Tensor(name + ".weight", new[] { filters, x.C / groups, kh, kw }, w));
            if (bias)
            {
                _weights.Add(new Tensor(name + ".bias", new[] { filters }, bArr));
            }

            string pad = useSame ? "PaddingMode = PaddingMode.Same" : $"PadTop = {pt}, PadLeft = {pl}, PadBottom = {pb}, PadRight = {pr}";
            string attr = $"Conv2D({filters}, {kh}, {kw}, StrideHeight = {sh}, StrideWidth = {sw}, DilationHeight = {dh}, DilationWidth = {dw}, {pad}, Groups = {groups}, Bias = {(bias ? "true" : "false")}{ActArgs(act, alpha)})";
            var xs = x;
            Add(attr, new Shape(filters, oh, ow, false), inputs =>
            {
                var y = new float[filters * oh * ow];
                Reference.Conv2D(inputs[0], xs.C, xs.H, xs.W, w, bArr, filters, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups, y);
                return Activate(y, act, alpha);
            }, (b, n) => b.Conv2D(n, filters, (kh, kw), (sh, sw), (pt, pl, pb, pr), (dh, dw), groups, bias, from, act, alpha), from is null ? Array.Empty<string>() : new[] { from });
            return;
        }
    }

    private void AddDepthwise()
    {
        var x = Cur;
        int k = Pick(3, 3, 5), s = Pick(1, 1, 2), p = k / 2;
        var (oh, ow) = Fits(() => Reference.ConvOutputSize(x.H, x.W, k, k, s, s, p, p, p, p, 1, 1));
        if (oh < 1 || ow < 1)
        {
            return;
        }

        var act = Pick(Activation.Relu6, Activation.Relu, Activation.None);
        string name = "n" + _nodes.Count.ToString(CultureInfo.InvariantCulture);
        var w = RandomArray(x.C * k * k, 0.6f);
        var bArr = RandomArray(x.C, 0.5f);
        _weights.Add(new Tensor(name + ".weight", new[] { x.C, 1, k, k }, w));
        _weights.Add(new Tensor(name + ".bias", new[] { x.C }, bArr));
        Add($"Conv2D({x.C}, {k}, Stride = {s}, Padding = {p}, Groups = {x.C}{ActArgs(act, 0.01f)})", new Shape(x.C, oh, ow, false), inputs =>
        {
            var y = new float[x.C * oh * ow];
            Reference.Conv2D(inputs[0], x.C, x.H, x.W, w, bArr, x.C, k, k, s, s, p, p, p, p, 1, 1, x.C, y);
            return Activate(y, act, 0.01f);
        }, (b, n) => b.Conv2D(n, x.C, k, s, p, groups: x.C, activation: act, alpha: 0.01f));
    }

    private void AddPool()
    {
        var x = Cur;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            bool max = Coin();
            int kh = R(1, 3), kw = Coin(0.7) ? kh : R(1, 3);
            int sh = R(1, 3), sw = Coin(0.7) ? sh : R(1, 3);
            int ph = R(0, kh / 2), pw = R(0, kw / 2);
            int d = max ? Pick(1, 1, 2) : 1;
            bool ceil = Coin(0.3), incl = Coin(0.6);
            var (oh, ow) = Fits(() => Reference.PoolOutputSize(x.H, x.W, kh, kw, sh, sw, ph, pw, d, d, ceil));
            if (oh < 1 || ow < 1)
            {
                continue;
            }

            string common = $"{kh}, {kw}, StrideHeight = {sh}, StrideWidth = {sw}, PaddingHeight = {ph}, PaddingWidth = {pw}, CeilMode = {(ceil ? "true" : "false")}";
            Add(max ? $"MaxPool2D({common}, Dilation = {d})" : $"AvgPool2D({common}, CountIncludePad = {(incl ? "true" : "false")})",
                new Shape(x.C, oh, ow, false), inputs =>
                {
                    var y = new float[x.C * oh * ow];
                    if (max)
                    {
                        Reference.MaxPool2D(inputs[0], x.C, x.H, x.W, kh, kw, sh, sw, ph, pw, d, d, ceil, y);
                    }
                    else
                    {
                        Reference.AvgPool2D(inputs[0], x.C, x.H, x.W, kh, kw, sh, sw, ph, pw, ceil, incl, y);
                    }

                    return y;
                },
                (b, n) =>
                {
                    if (max)
                    {
                        b.MaxPool2D((kh, kw), (sh, sw), (ph, pw), (d, d), ceil, n);
                    }
                    else
                    {
                        b.AvgPool2D((kh, kw), (sh, sw), (ph, pw), ceil, incl, n);
                    }
                });
            return;
        }
    }

    private void AddStandaloneActivation()
    {
        var act = Pick(Activation.Relu, Activation.Relu6, Activation.LeakyRelu, Activation.Sigmoid, Activation.Tanh, Activation.SiLU);
        float alpha = 0.1f;
        string attr = act switch
        {
            Activation.Relu => "ReLU",
            Activation.Relu6 => "ReLU6",
            Activation.LeakyRelu => "LeakyReLU(0.1f)",
            Activation.Sigmoid => "Sigmoid",
            Activation.Tanh => "Tanh",
            _ => "SiLU",
        };
        Add(attr, Cur, inputs => Activate(inputs[0], act, alpha), (b, n) => b.Activation(act, alpha, n));
    }

    private void AddBatchNorm()
    {
        var x = Cur;
        string name = "n" + _nodes.Count.ToString(CultureInfo.InvariantCulture);
        var g = RandomArray(x.C, 1f);
        var b = RandomArray(x.C, 0.5f);
        var m = RandomArray(x.C, 0.5f);
        var v = RandomArray(x.C, 1f).Select(z => Math.Abs(z) + 0.05f).ToArray();
        float eps = Pick(1e-5f, 1e-3f);
        _weights.Add(new Tensor(name + ".weight", new[] { x.C }, g));
        _weights.Add(new Tensor(name + ".bias", new[] { x.C }, b));
        _weights.Add(new Tensor(name + ".running_mean", new[] { x.C }, m));
        _weights.Add(new Tensor(name + ".running_var", new[] { x.C }, v));
        var act = Pick(Activation.None, Activation.Relu);
        Add($"BatchNorm2D(Eps = {F(eps)}{ActArgs(act, 0.01f)})", x, inputs =>
        {
            var y = new float[x.Size];
            Reference.BatchNorm2D(inputs[0], x.C, x.H, x.W, g, b, m, v, eps, y);
            return Activate(y, act, 0.01f);
        }, (builder, n) => builder.BatchNorm2D(n, eps, activation: act, alpha: 0.01f));
    }

    private void AddResidual()
    {
        // A 'same' convolution keeps the shape, so it can be added back to its own input (a residual block).
        string skip = Last;
        var x = Cur;
        AddConv(forceFilters: x.C, same: true);
        if (_shapes[Last] != x)
        {
            return;
        }

        string body = Last;
        var act = Pick(Activation.None, Activation.Relu);
        Add($"Add(\"{body}\", \"{skip}\"{ActArgs(act, 0.01f)})", x, inputs =>
        {
            var y = new float[x.Size];
            Reference.Add(inputs[0], inputs[1], y);
            return Activate(y, act, 0.01f);
        }, (b, n) => b.Add(body, skip, n, act, 0.01f), body, skip);
    }

    private void AddConcat()
    {
        string a = Last;
        var x = Cur;
        AddConv(same: true, from: a);
        string b = Last;
        var y = _shapes[b];
        if (y.H != x.H || y.W != x.W)
        {
            return;
        }

        Add($"Concat(\"{a}\", \"{b}\")", new Shape(x.C + y.C, x.H, x.W, false), inputs =>
        {
            var z = new float[(x.C + y.C) * x.H * x.W];
            Reference.Concat(inputs[0], x.C, inputs[1], y.C, x.H, x.W, z);
            return z;
        }, (builder, n) => builder.Concat(a, b, n), a, b);
    }

    /// <summary>An adaptive average pool to the input's size (a view), to 1 x 1 (a global pool), smaller or larger.</summary>
    private void AddAdaptivePool()
    {
        var x = Cur;
        int Size(int input) => Pick(1, input, R(1, input), R(1, input + 3));
        int oh = Size(x.H), ow = Size(x.W);
        Add($"AdaptiveAvgPool2D({oh}, {ow})", new Shape(x.C, oh, ow, false), inputs =>
        {
            var y = new float[x.C * oh * ow];
            Reference.AdaptiveAvgPool2D(inputs[0], x.C, x.H, x.W, oh, ow, y);
            return y;
        }, (b, n) => b.AdaptiveAvgPool2D(oh, ow, n));
    }

    /// <summary>
    /// A product with the current map: a squeeze-and-excitation scale (global pool, then a convolution or a dense layer
    /// to C values) or a same-shape convolution of it, as either operand, with a random fused activation.
    /// </summary>
    private void AddMultiply()
    {
        string map = Last;
        var x = Cur;
        switch (R(0, 2))
        {
            case 0:
                AddGlobalPool();
                AddConv(forceFilters: x.C, same: true);
                break;
            case 1:
                AddGlobalPool();
                AddDense(x.C, Activation.Sigmoid);
                break;
            default:
                AddConv(forceFilters: x.C, same: true, from: map);
                break;
        }

        string other = Last;
        var y = _shapes[other];
        if (y.C != x.C || (y.Size != x.Size && y.Size != x.C))
        {
            return; // a grouped convolution changed the channels
        }

        var (first, second) = Coin() ? (map, other) : (other, map);
        var act = Pick(Activation.None, Activation.None, Activation.Relu, Activation.SiLU);
        Add($"Multiply(\"{first}\", \"{second}\"{ActArgs(act, 0.01f)})", x, inputs =>
        {
            var z = new float[x.Size];
            var (a, b) = first == map ? (inputs[0], inputs[1]) : (inputs[1], inputs[0]);
            if (y.Size == x.Size)
            {
                Reference.Multiply(a, b, z);
            }
            else
            {
                Reference.MultiplyPerChannel(a, x.C, x.H, x.W, b, z);
            }

            return Activate(z, act, 0.01f);
        }, (b, n) => b.Multiply(first, second, n, act, 0.01f), first, second);
    }

    private void AddGlobalPool()
    {
        var x = Cur;
        bool max = Coin();
        Add(max ? "GlobalMaxPool2D" : "GlobalAvgPool2D", new Shape(x.C, 1, 1, false), inputs =>
        {
            var y = new float[x.C];
            if (max)
            {
                Reference.GlobalMaxPool2D(inputs[0], x.C, x.H, x.W, y);
            }
            else
            {
                Reference.GlobalAvgPool2D(inputs[0], x.C, x.H, x.W, y);
            }

            return y;
        }, (b, n) =>
        {
            if (max)
            {
                b.GlobalMaxPool2D(n);
            }
            else
            {
                b.GlobalAvgPool2D(n);
            }
        });
    }

    private void AddFlattenDense()
    {
        var x = Cur;
        Add("Flatten", new Shape(x.Size, 1, 1, true), inputs => inputs[0], (b, n) => b.Flatten(n));
        int layers = R(1, 2);
        for (int i = 0; i < layers; i++)
        {
            AddDense(R(1, 40), i == layers - 1 ? Activation.None : RandomActivation());
        }
    }

    /// <summary>A dense layer reading the current flat (or 1 x 1) output.</summary>
    private void AddDense(int units, Activation act)
    {
        int k = Cur.Size;
        bool bias = Coin(0.8);
        string name = "n" + _nodes.Count.ToString(CultureInfo.InvariantCulture);
        var w = RandomArray(units * k, 1f / MathF.Sqrt(k));
        var bArr = bias ? RandomArray(units, 0.5f) : Array.Empty<float>();
        _weights.Add(new Tensor(name + ".weight", new[] { units, k }, w));
        if (bias)
        {
            _weights.Add(new Tensor(name + ".bias", new[] { units }, bArr));
        }

        Add($"Dense({units}, Bias = {(bias ? "true" : "false")}{ActArgs(act, 0.02f)})", new Shape(units, 1, 1, true), inputs =>
        {
            var y = new float[units];
            Reference.Dense(inputs[0], k, w, bArr, units, y);
            return Activate(y, act, 0.02f);
        }, (b, n) => b.Dense(n, units, bias, act, 0.02f));
    }

    /// <summary>The reference output for one input.</summary>
    public float[] Forward(float[] input)
    {
        var values = new Dictionary<string, float[]> { ["input"] = input };
        foreach (var n in _nodes)
        {
            values[n.Name] = n.Run(n.Inputs.Select(i => values[i]).ToList());
        }

        return values[_nodes.Count == 0 ? "input" : _nodes[^1].Name];
    }

    /// <summary>Declares this network to <paramref name="builder"/> (node names <c>n0</c>, <c>n1</c>... as in the attributes).</summary>
    public void Define(IReferenceNetworkBuilder builder)
    {
        foreach (var n in _nodes)
        {
            n.Define(builder);
        }
    }

    /// <summary>This network as a <see cref="ReferenceNetwork{T}"/> with its weights loaded.</summary>
    public ReferenceNetwork<T> CreateReferenceNetwork<T>()
        where T : IFloatingPointIeee754<T>
    {
        var s = _shapes["input"];
        var network = ReferenceNetwork<T>.Create(new CnnGen.Tests.Backward.Shape(s.C, s.H, s.W), Define);
        network.Load(Weights);
        return network;
    }

    public float[] RandomInput(int seed)
    {
        var r = new Random(seed);
        var x = new float[InputSize];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((r.NextDouble() * 4) - 2);
        }

        return x;
    }

    public override string ToString() => Declaration;
}
