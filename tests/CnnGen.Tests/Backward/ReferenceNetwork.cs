using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Numerics;

namespace CnnGen.Tests.Backward;

/// <summary>
/// Declares a network layer by layer, like the attributes do: each layer reads the previous one unless <c>from</c> names
/// another (<c>"input"</c> is the network input). Parameter names are PyTorch's (<c>name.weight</c>...). An
/// <c>activation</c> argument fuses an activation as the attributes' <c>Activation = ...</c> does: <c>name</c> then refers
/// to the activated output. Non-generic, so a definition can be built in any precision (<see cref="ReferenceNetwork{T}"/>).
/// </summary>
public interface IReferenceNetworkBuilder
{
    IReferenceNetworkBuilder Conv2D(string name, int filters, int kernel, int stride = 1, int padding = 0, int groups = 1, bool bias = true, string? from = null, Activation activation = CnnGen.Activation.None, double alpha = 0.01);

    IReferenceNetworkBuilder Conv2D(string name, int filters, (int H, int W) kernel, (int H, int W) stride, (int Top, int Left, int Bottom, int Right) padding, (int H, int W) dilation, int groups, bool bias, string? from = null, Activation activation = CnnGen.Activation.None, double alpha = 0.01);

    IReferenceNetworkBuilder Dense(string name, int units, bool bias = true, Activation activation = CnnGen.Activation.None, double alpha = 0.01);

    IReferenceNetworkBuilder BatchNorm2D(string name, double eps = 1e-5, double momentum = 0.1, Activation activation = CnnGen.Activation.None, double alpha = 0.01);

    IReferenceNetworkBuilder Activation(Activation activation, double alpha = 0.01, string? name = null);

    IReferenceNetworkBuilder Relu(string? name = null);

    IReferenceNetworkBuilder Softmax(string? name = null);

    IReferenceNetworkBuilder MaxPool2D(int kernel, string? name = null);

    IReferenceNetworkBuilder MaxPool2D((int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, bool ceilMode, string? name = null);

    IReferenceNetworkBuilder AvgPool2D((int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, bool ceilMode, bool countIncludePad, string? name = null);

    IReferenceNetworkBuilder GlobalAvgPool2D(string? name = null);

    IReferenceNetworkBuilder GlobalMaxPool2D(string? name = null);

    IReferenceNetworkBuilder AdaptiveAvgPool2D(int outH, int outW, string? name = null);

    IReferenceNetworkBuilder Flatten(string? name = null);

    IReferenceNetworkBuilder Dropout(double p, uint seed, string? name = null);

    IReferenceNetworkBuilder Add(string a, string b, string? name = null, Activation activation = CnnGen.Activation.None, double alpha = 0.01);

    IReferenceNetworkBuilder Concat(string a, string b, string? name = null);

    IReferenceNetworkBuilder Multiply(string a, string b, string? name = null, Activation activation = CnnGen.Activation.None, double alpha = 0.01);
}

/// <summary>
/// A small network executor over the reference layers, for tests: a graph of <see cref="Layer{T}"/>s run in declaration order.
/// <see cref="Forward"/> keeps every layer's inputs; <see cref="Backward"/> applies the chain rule in reverse order, summing
/// the gradients of a tensor read by several layers, and accumulates the parameter gradients. An optimizer plugs in as one
/// call over <see cref="Parameters"/> (name, value, gradient per tensor).
/// </summary>
public sealed class ReferenceNetwork<T> : IReferenceNetworkBuilder
    where T : IFloatingPointIeee754<T>
{
    private const string InputName = "input";
    private readonly List<Node> _nodes = new();
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal) { [InputName] = -1 };
    private T[][] _outputs = Array.Empty<T[]>();
    private int _batch;

    public ReferenceNetwork(Shape input) => Input = input;

    public Shape Input { get; }

    public Shape Output => _nodes.Count == 0 ? Input : _nodes[^1].Layer.Output;

    public IReadOnlyList<Layer<T>> Layers => _nodes.Select(n => n.Layer).ToArray();

    /// <summary>Every trained tensor in declaration order.</summary>
    public IReadOnlyList<Parameter<T>> Parameters => _nodes.SelectMany(n => n.Layer.Parameters).ToArray();

    /// <summary>Untrained state (running statistics) in declaration order.</summary>
    public IReadOnlyList<(string Name, T[] Value)> Buffers => _nodes.SelectMany(n => n.Layer.Buffers).ToArray();

    /// <summary>Builds a network from a definition.</summary>
    public static ReferenceNetwork<T> Create(Shape input, Action<IReferenceNetworkBuilder> define)
    {
        var network = new ReferenceNetwork<T>(input);
        define(network);
        return network;
    }

    /// <summary>Converts float values to <typeparamref name="T"/>.</summary>
    public static T[] From(IEnumerable<float> values) => values.Select(T.CreateChecked).ToArray();

    /// <summary>Copies every parameter and buffer from <paramref name="weights"/> (PyTorch names and shapes); extra tensors are an error too.</summary>
    public void Load(TensorSet weights)
    {
        var expected = Parameters.Select(p => (p.Name, p.Shape, p.Value)).Concat(Buffers.Select(b => (b.Name, new[] { b.Value.Length }, b.Value))).ToList();
        foreach ((string name, int[] shape, T[] value) in expected)
        {
            Tensor tensor = weights.Get(name);
            Assert.That(tensor.Shape.ToArray(), Is.EqualTo(shape), name);
            From(tensor.Data.ToArray()).CopyTo(value, 0);
        }

        Assert.That(weights.Names.Except(expected.Select(e => e.Name)), Is.Empty, "tensors the network does not have");
    }

    /// <summary>Clears every parameter gradient.</summary>
    public void ZeroGrad()
    {
        foreach (Parameter<T> p in Parameters)
        {
            Array.Clear(p.Grad);
        }
    }

    /// <summary>Runs a batch <c>[batch, C, H, W]</c>; returns the last layer's output <c>[batch, ...]</c>.</summary>
    public T[] Forward(T[] input, int batch, bool training)
    {
        Assert.That(input, Has.Length.EqualTo(batch * Input.Size), "input length");
        _batch = batch;
        _outputs = new T[_nodes.Count][];
        for (int i = 0; i < _nodes.Count; i++)
        {
            T[][] inputs = _nodes[i].Inputs.Select(k => k < 0 ? input : _outputs[k]).ToArray();
            _outputs[i] = _nodes[i].Layer.Forward(inputs, batch, training);
            Assert.That(_outputs[i], Has.Length.EqualTo(batch * _nodes[i].Layer.Output.Size), _nodes[i].Layer.Name);
        }

        return _nodes.Count == 0 ? input : _outputs[^1];
    }

    /// <summary>
    /// Back-propagates d loss / d output of the last <see cref="Forward"/>: returns d loss / d input and adds d loss / d parameter
    /// to every <see cref="Parameter{T}.Grad"/>. A layer whose output reaches nothing gets no gradient.
    /// </summary>
    public T[] Backward(T[] outputGrad)
    {
        Assert.That(_outputs, Has.Length.EqualTo(_nodes.Count), "Backward needs a Forward first");
        if (_nodes.Count == 0)
        {
            return outputGrad;
        }

        var grads = new T[]?[_nodes.Count];
        var inputGrad = new T[_batch * Input.Size];
        grads[^1] = outputGrad;
        for (int i = _nodes.Count - 1; i >= 0; i--)
        {
            if (grads[i] is not T[] grad)
            {
                continue;
            }

            T[][] inputGrads = _nodes[i].Layer.Backward(grad, _batch);
            for (int j = 0; j < inputGrads.Length; j++)
            {
                int source = _nodes[i].Inputs[j];
                T[] target = source < 0 ? inputGrad : (grads[source] ??= new T[inputGrads[j].Length]);
                for (int k = 0; k < target.Length; k++)
                {
                    target[k] += inputGrads[j][k];
                }
            }
        }

        return inputGrad;
    }

    /// <summary>
    /// One training pass without the update: clears the gradients, runs the batch in training mode, computes the mean
    /// cross-entropy of the logits (the last layer's output) and back-propagates it. Returns the loss and the logits.
    /// </summary>
    public (T Loss, T[] Logits) ComputeGradients(T[] input, int[] labels, int batch)
    {
        ZeroGrad();
        T[] logits = Forward(input, batch, training: true);
        var logitsGrad = new T[logits.Length];
        T loss = Reference<T>.CrossEntropy(logits, batch, Output.Size, labels, logitsGrad);
        Backward(logitsGrad);
        return (loss, logits);
    }

    public IReferenceNetworkBuilder Conv2D(string name, int filters, int kernel, int stride = 1, int padding = 0, int groups = 1, bool bias = true, string? from = null, Activation activation = CnnGen.Activation.None, double alpha = 0.01) =>
        Conv2D(name, filters, (kernel, kernel), (stride, stride), (padding, padding, padding, padding), (1, 1), groups, bias, from, activation, alpha);

    public IReferenceNetworkBuilder Conv2D(string name, int filters, (int H, int W) kernel, (int H, int W) stride, (int Top, int Left, int Bottom, int Right) padding, (int H, int W) dilation, int groups, bool bias, string? from = null, Activation activation = CnnGen.Activation.None, double alpha = 0.01) =>
        Add(new Conv2DLayer<T>(name, ShapeOf(from), filters, kernel, stride, padding, dilation, groups, bias), from).Fuse(name, activation, alpha);

    public IReferenceNetworkBuilder Dense(string name, int units, bool bias = true, Activation activation = CnnGen.Activation.None, double alpha = 0.01) =>
        Add(new DenseLayer<T>(name, ShapeOf(null), units, bias)).Fuse(name, activation, alpha);

    public IReferenceNetworkBuilder BatchNorm2D(string name, double eps = 1e-5, double momentum = 0.1, Activation activation = CnnGen.Activation.None, double alpha = 0.01) =>
        Add(new BatchNorm2DLayer<T>(name, ShapeOf(null), eps, momentum)).Fuse(name, activation, alpha);

    public IReferenceNetworkBuilder Activation(Activation activation, double alpha = 0.01, string? name = null) =>
        Add(new ActivationLayer<T>(NameOr(name, activation.ToString().ToLowerInvariant()), ShapeOf(null), activation, alpha));

    public IReferenceNetworkBuilder Relu(string? name = null) => Activation(CnnGen.Activation.Relu, name: name);

    public IReferenceNetworkBuilder Softmax(string? name = null) => Add(new SoftmaxLayer<T>(NameOr(name, "softmax"), ShapeOf(null)));

    public IReferenceNetworkBuilder MaxPool2D(int kernel, string? name = null) => MaxPool2D((kernel, kernel), (kernel, kernel), (0, 0), (1, 1), false, name);

    public IReferenceNetworkBuilder MaxPool2D((int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, bool ceilMode, string? name = null) =>
        Add(new MaxPool2DLayer<T>(NameOr(name, "maxpool"), ShapeOf(null), kernel, stride, padding, dilation, ceilMode));

    public IReferenceNetworkBuilder AvgPool2D((int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, bool ceilMode, bool countIncludePad, string? name = null) =>
        Add(new AvgPool2DLayer<T>(NameOr(name, "avgpool"), ShapeOf(null), kernel, stride, padding, ceilMode, countIncludePad));

    public IReferenceNetworkBuilder GlobalAvgPool2D(string? name = null) => Add(new GlobalPool2DLayer<T>(NameOr(name, "globalavgpool"), ShapeOf(null), max: false));

    public IReferenceNetworkBuilder GlobalMaxPool2D(string? name = null) => Add(new GlobalPool2DLayer<T>(NameOr(name, "globalmaxpool"), ShapeOf(null), max: true));

    public IReferenceNetworkBuilder AdaptiveAvgPool2D(int outH, int outW, string? name = null) => Add(new AdaptiveAvgPool2DLayer<T>(NameOr(name, "adaptiveavgpool"), ShapeOf(null), outH, outW));

    public IReferenceNetworkBuilder Flatten(string? name = null) => Add(new FlattenLayer<T>(NameOr(name, "flatten"), ShapeOf(null)));

    public IReferenceNetworkBuilder Dropout(double p, uint seed, string? name = null) => Add(new DropoutLayer<T>(NameOr(name, "dropout"), ShapeOf(null), p, seed));

    public IReferenceNetworkBuilder Add(string a, string b, string? name = null, Activation activation = CnnGen.Activation.None, double alpha = 0.01)
    {
        string added = NameOr(name, "add");
        return Add(new AddLayer<T>(added, ShapeOf(a), ShapeOf(b)), a, b).Fuse(added, activation, alpha);
    }

    public IReferenceNetworkBuilder Concat(string a, string b, string? name = null) => Add(new ConcatLayer<T>(NameOr(name, "concat"), ShapeOf(a), ShapeOf(b)), a, b);

    public IReferenceNetworkBuilder Multiply(string a, string b, string? name = null, Activation activation = CnnGen.Activation.None, double alpha = 0.01)
    {
        string multiplied = NameOr(name, "multiply");
        return Add(new MultiplyLayer<T>(multiplied, ShapeOf(a), ShapeOf(b)), a, b).Fuse(multiplied, activation, alpha);
    }

    public override string ToString() => string.Join(" -> ", _nodes.Select(n => n.Layer.ToString()));

    private string NameOr(string? name, string kind) => name ?? kind + _nodes.Count.ToString(CultureInfo.InvariantCulture);

    private Shape ShapeOf(string? from)
    {
        int i = IndexOf(from);
        return i < 0 ? Input : _nodes[i].Layer.Output;
    }

    private int IndexOf(string? name)
    {
        if (name is null)
        {
            return _nodes.Count - 1;
        }

        return _index.TryGetValue(name, out int i) ? i : throw new ArgumentException($"No layer named '{name}'.", nameof(name));
    }

    private ReferenceNetwork<T> Add(Layer<T> layer, params string?[] from)
    {
        int[] inputs = from.Length == 0 ? new[] { IndexOf(null) } : from.Select(IndexOf).ToArray();
        if (!_index.TryAdd(layer.Name, _nodes.Count))
        {
            throw new ArgumentException($"Two layers are named '{layer.Name}'.", nameof(layer));
        }

        _nodes.Add(new Node(layer, inputs));
        return this;
    }

    /// <summary>Appends a fused activation (if any) and makes <paramref name="name"/> refer to its output.</summary>
    private ReferenceNetwork<T> Fuse(string name, Activation activation, double alpha)
    {
        if (activation != CnnGen.Activation.None)
        {
            Add(new ActivationLayer<T>(name + "." + activation.ToString().ToLowerInvariant(), ShapeOf(null), activation, alpha));
            _index[name] = _nodes.Count - 1;
        }

        return this;
    }

    private sealed record Node(Layer<T> Layer, int[] Inputs);
}
