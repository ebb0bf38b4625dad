using System;
using System.Collections.Generic;
using System.ComponentModel;
using CnnGen.Internal;

namespace CnnGen.Training;

/// <summary>
/// The base of every generated trainer (<c>MyNetwork.Trainer</c>): the parts that are the same for every network. The
/// generated class holds the parameters in its kernels' packed layouts and the per-width kernels; this class validates
/// the arguments, sizes the buffers (grown on the first batch of a size, never per step), runs the kernels on a
/// persistent pool of threads, computes the loss, sums the per-thread gradients in a fixed order, refuses a step whose
/// loss or gradients are not finite (changing nothing), and saves, loads and checkpoints the state.
/// </summary>
/// <remarks>
/// A step allocates nothing after the first of its batch size. With the same <see cref="TrainerOptions.Threads"/> the
/// results are the same bits on every run; batch-norm statistics do not depend on the thread count at all.
/// </remarks>
public abstract partial class NetworkTrainer : ITrainer
{
    private readonly List<Parameter> _parameters = new();
    private readonly List<string> _parameterLayers = new();
    private readonly List<bool> _gradientOverwritten = new();
    private readonly List<StateEntry> _state = new();
    private readonly List<BatchNormTraining> _batchNorms = new();
    private readonly List<(string Layer, int Offset, int Floats)> _outputs = new();
    private readonly int _imageFloats;
    private readonly int _statisticsDoubles;
    private readonly int _batchNormPixels;
    private readonly Action<int> _slice;
    private WorkerPool? _pool;
    private Memory<float>[][] _threadGradients = Array.Empty<Memory<float>[]>();
    private int _capacity;
    private Memory<float> _inputs;
    private float[] _outputsBuffer = Array.Empty<float>();
    private float[] _outputGradients = Array.Empty<float>();
    private float[] _inputGradients = Array.Empty<float>();
    private float[] _targets = Array.Empty<float>();
    private int[] _labels = Array.Empty<int>();
    private double[] _losses = Array.Empty<double>();
    private bool[] _correct = Array.Empty<bool>();
    private Memory<float> _workspace;
    private double[] _statistics = Array.Empty<double>();
    private bool _disposed;

    /// <summary>Called by the generated constructor.</summary>
    /// <param name="network">The network's class name, for messages.</param>
    /// <param name="inputSize">Floats per input image.</param>
    /// <param name="outputSize">Floats per output.</param>
    /// <param name="classes">Classes of the cross-entropy (the logits' length), or 0 when the output is not a vector of scores.</param>
    /// <param name="width">The vector width the kernels run with.</param>
    /// <param name="imageFloats">Workspace floats per image (forward tensors, gradients, dropout masks).</param>
    /// <param name="statisticsDoubles">Per-image batch-norm partial sums (doubles).</param>
    /// <param name="batchNormPixels">The fewest pixels per channel of any batch norm (a batch needs two values per channel), or 0.</param>
    /// <param name="options">The options; null for the defaults.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected NetworkTrainer(string network, int inputSize, int outputSize, int classes, VectorWidth width, int imageFloats, int statisticsDoubles, int batchNormPixels, TrainerOptions? options)
    {
        Options = options ?? TrainerOptions.Default;
        Options.Validate();
        Network = network;
        InputSize = inputSize;
        OutputSize = outputSize;
        Classes = classes;
        VectorWidth = width;
        Threads = Options.Threads;
        Seed = Options.Seed;
        _imageFloats = imageFloats;
        _statisticsDoubles = statisticsDoubles;
        _batchNormPixels = batchNormPixels;
        _slice = Slice;
        Parameters = _parameters.AsReadOnly();
    }

    /// <summary>The network's class name.</summary>
    public string Network { get; }

    /// <summary>The options the trainer was made with.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The trainable tensors in PyTorch's <c>state_dict</c> order; values and gradients in the kernels' packed layouts.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Floats in one input image (NCHW).</summary>
    public int InputSize { get; }

    /// <summary>Floats in one output.</summary>
    public int OutputSize { get; }

    /// <summary>Classes the cross-entropy compares (the logits' length); 0 when the output is not a vector of scores.</summary>
    public int Classes { get; }

    /// <summary>The vector width the kernels run with.</summary>
    public VectorWidth VectorWidth { get; }

    /// <summary>Threads a step runs on.</summary>
    public int Threads { get; }

    /// <summary>The seed of the dropout masks (and of the initial weights of a trainer made by <c>Create</c>).</summary>
    public ulong Seed { get; private set; }

    /// <summary>
    /// Training passes completed: steps, gradient computations and training-mode <see cref="Forward"/> calls. The dropout
    /// masks of a pass are drawn from (seed, layer, this count); a checkpoint saves it.
    /// </summary>
    public long StepCount { get; private set; }

    /// <summary>Bytes the worker threads have allocated so far (the calling thread's are its own to measure).</summary>
    internal long WorkerAllocatedBytes => _pool?.WorkerAllocatedBytes ?? 0;

    /// <summary>Images the buffers hold now (the largest batch so far).</summary>
    public int Capacity => _capacity;

    /// <summary>The running batch-norm states, in layer order.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected IReadOnlyList<BatchNormTraining> BatchNorms => _batchNorms;

    /// <summary>The images of the current pass: <c>batch x InputSize</c> floats (NCHW), on a 64-byte cache line.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected Memory<float> Inputs => _inputs;

    /// <summary>The outputs (or logits) of the current pass, PyTorch's order.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected float[] Outputs => _outputsBuffer;

    /// <summary>d loss / d output (or d logits) of the current pass, PyTorch's order.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected float[] OutputGradients => _outputGradients;

    /// <summary>d loss / d input of the current pass, NCHW (filled only when asked for).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected float[] InputGradients => _inputGradients;

    /// <summary>The workspace: image i's tensors start at <c>i x imageFloats</c>; the first on a 64-byte cache line.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected Memory<float> Workspace => _workspace;

    /// <summary>Per-image batch-norm partial sums: image i's start at <c>i x statisticsDoubles</c>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected double[] Statistics => _statistics;

    /// <summary>Images in the current pass (all threads).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected int BatchSize { get; private set; }

    /// <summary>Registers a parameter (in <c>state_dict</c> order) and the layer it belongs to.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void AddParameter(Parameter parameter, string layer) => AddParameter(parameter, layer, gradientOverwritten: false);

    /// <summary>Registers a parameter (in <c>state_dict</c> order), the layer it belongs to, and whether the backward kernels store its whole gradient on every thread in every pass (then it is not cleared before).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void AddParameter(Parameter parameter, string layer, bool gradientOverwritten)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        _parameters.Add(parameter);
        _parameterLayers.Add(layer);
        _gradientOverwritten.Add(gradientOverwritten);
        _state.Add(new StateEntry(parameter, null));
    }

    /// <summary>
    /// Registers a parameter of a dense layer the threads split by output columns: blocks of <paramref name="blockFloats"/>
    /// floats, one output vector each, dealt out whole (<see cref="VectorPart"/>), so a thread's part is one contiguous
    /// run. The weights are packed in unit blocks (<c>[unit vector][feature][vector]</c>: a block is a vector's features);
    /// the bias's blocks are its vectors. Every thread stores its part of the one gradient buffer
    /// (<see cref="Parameter.Gradient"/>: nothing to clear, nothing to sum), and checks and updates it in a threaded step.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void AddParameter(Parameter parameter, string layer, int blockFloats)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        parameter.SplitColumns(blockFloats);
        AddParameter(parameter, layer, gradientOverwritten: true);
    }

    /// <summary>
    /// The first output vector of <paramref name="thread"/>'s columns of a dense layer with <paramref name="vectors"/>
    /// output vectors split by columns (thread t's are [VectorPart(t), VectorPart(t + 1))).
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected int VectorPart(int thread, int vectors) => TrainingMath.VectorPart(vectors, thread, Threads);

    /// <summary>Registers a batch norm's running statistics (after its weight and bias, as in a <c>state_dict</c>).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void AddBatchNorm(BatchNormTraining batchNorm)
    {
        ArgumentNullException.ThrowIfNull(batchNorm);
        _batchNorms.Add(batchNorm);
        _state.Add(new StateEntry(null, batchNorm));
    }

    /// <summary>Registers a layer's output tensor in the workspace (to name the first layer that overflows).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void AddOutput(string layer, int offset, int floats) => _outputs.Add((layer, offset, floats));

    /// <summary>The parameter-gradient buffers of a thread (thread 0's are the parameters' own <see cref="Parameter.Gradient"/>), on 64-byte cache lines.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected Memory<float>[] GradientsOf(int thread) => _threadGradients[thread];

    /// <summary>Waits until every thread of the pass has reached this point (a batch-norm synchronization).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void Synchronize() => _pool?.Barrier();

    /// <summary>The dropout seed of <paramref name="layer"/> in the current pass: <c>CounterRandom(Seed, layer).Substream(StepCount)</c>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected uint DropoutSeed(string layer) => new CounterRandom(Seed, layer).Substream(unchecked((ulong)StepCount)).DropoutSeed;

    /// <summary>Sets the seed (a trainer made by <c>Create</c> draws its weights and masks from it).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void SetSeed(ulong seed) => Seed = seed;

    /// <summary>The training forward pass of images [begin, end) on thread <paramref name="thread"/>.</summary>
    /// <param name="thread">The thread (0 is the caller).</param>
    /// <param name="begin">First image.</param>
    /// <param name="end">One past the last image.</param>
    /// <param name="training">Training mode (batch statistics, dropout) or evaluation mode.</param>
    /// <param name="logits">Stop at the logits (a final softmax is folded into the cross-entropy) and copy them to <see cref="Outputs"/>.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected abstract void ForwardSlice(int thread, int begin, int end, bool training, bool logits);

    /// <summary>The backward pass of images [begin, end), from <see cref="OutputGradients"/>, into the thread's gradient buffers.</summary>
    /// <param name="thread">The thread.</param>
    /// <param name="begin">First image.</param>
    /// <param name="end">One past the last image.</param>
    /// <param name="fromLogits">The gradients are d loss / d logits (the final softmax was folded).</param>
    /// <param name="inputGradients">Also compute d loss / d input into <see cref="InputGradients"/>.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected abstract void BackwardSlice(int thread, int begin, int end, bool fromLogits, bool inputGradients);

    /// <summary>Refreshes what the backward kernels read beside the weights (transposed copies), before a backward pass.</summary>
    /// <param name="inputGradients">The pass computes d loss / d input too (the first layers' transposed weights are needed).</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected virtual void PrepareBackward(bool inputGradients)
    {
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _pool?.Dispose();
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Grows every buffer to <paramref name="batch"/> images (never shrinks; a step of a known size allocates nothing).</summary>
    private void EnsureCapacity(int batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_threadGradients.Length == 0)
        {
            _threadGradients = new Memory<float>[Threads][];
            for (int t = 0; t < Threads; t++)
            {
                _threadGradients[t] = new Memory<float>[_parameters.Count];
                for (int p = 0; p < _parameters.Count; p++)
                {
                    // a column-split parameter has one buffer, each thread storing its own columns
                    bool shared = t == 0 || _parameters[p].ColumnBlockFloats > 0;
                    _threadGradients[t][p] = shared ? _parameters[p].GradientMemory : TrainingBuffers.LineAligned(_parameters[p].PackedLength);
                }
            }
        }

        if (Threads > 1 && _pool is null)
        {
            // Workers poll 50 us for the next step's job before they block: a training loop's next step comes sooner.
            _pool = new WorkerPool(Threads, Network + " trainer thread", spinMicroseconds: 50);
            _partFinite = new bool[Threads];
            _inputFinite = new bool[Threads];
        }

        if (batch <= _capacity)
        {
            return;
        }

        // the images and the workspace on cache lines (TrainingBuffers.LineAligned): an image's tensors start on lines when
        // its stride is whole lines, so the kernels' vector loads and stores do not split them; a batch too large for
        // either is refused before anything is allocated
        int inputFloats = BatchFloats(batch, InputSize, "inputs"), workspaceFloats = BatchFloats(batch, _imageFloats, "workspace");
        _inputs = TrainingBuffers.LineAligned(inputFloats);
        _outputsBuffer = new float[checked(batch * OutputSize)];
        _outputGradients = new float[batch * OutputSize];
        _targets = new float[batch * OutputSize];
        _inputGradients = new float[batch * InputSize];
        _labels = new int[batch];
        _losses = new double[batch];
        _correct = new bool[batch];
        _workspace = TrainingBuffers.LineAligned(workspaceFloats);
        _statistics = new double[checked(batch * _statisticsDoubles)];
        _capacity = batch;
    }

    /// <summary><paramref name="batch"/> images of <paramref name="perImage"/> floats, or the OutOfMemoryException naming the batch when no line-aligned buffer can hold them.</summary>
    private int BatchFloats(int batch, int perImage, string what)
    {
        long floats = (long)batch * perImage;
        return floats <= Array.MaxLength - 16 ? (int)floats : throw new OutOfMemoryException($"{Network}: a batch of {batch} needs {floats} floats of {what}");
    }

    private sealed record StateEntry(Parameter? Parameter, BatchNormTraining? BatchNorm);
}
