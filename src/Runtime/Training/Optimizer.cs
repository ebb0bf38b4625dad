using System;
using System.Collections.Generic;
using System.Globalization;

namespace CnnGen.Training;

/// <summary>One state buffer of an optimizer: which parameter, its PyTorch name and the buffer (packed layout).</summary>
/// <param name="Parameter">The parameter the buffer belongs to.</param>
/// <param name="Name">PyTorch's name for it: <c>momentum_buffer</c>, <c>exp_avg</c>, <c>exp_avg_sq</c> or <c>max_exp_avg_sq</c>.</param>
/// <param name="Memory">The buffer, <see cref="Training.Parameter.PackedLength"/> floats in the parameter's packed layout (live, not a copy; on a 64-byte cache line).</param>
public readonly record struct OptimizerBuffer(Parameter Parameter, string Name, Memory<float> Memory)
{
    /// <summary>The buffer's floats (<see cref="Memory"/>'s span: live, not a copy).</summary>
    public Span<float> Data => Memory.Span;
}

/// <summary>
/// The base of <see cref="Sgd"/>, <see cref="Adam"/> and <see cref="AdamW"/>: a fixed list of parameters updated
/// in place by <see cref="Step"/> with PyTorch 1.13's formulas, state buffers allocated once (a step allocates
/// nothing), and state that saves to and loads from safetensors so that training resumes bit for bit.
/// </summary>
/// <remarks>
/// <para>
/// A step first scans every gradient: a NaN or an infinity throws <see cref="NonFiniteGradientException"/>
/// before any value, buffer or the step count changes. Then each parameter is updated element by element;
/// the result of an element depends only on its own value, gradient and state, so it is the same bits for
/// any vector width and any layout.
/// </para>
/// <para>
/// Every parameter shares one step count (PyTorch keeps one per parameter; they are equal when every
/// parameter gets a gradient at every step, as here). One parameter group: the hyper-parameters apply to all.
/// </para>
/// </remarks>
public abstract partial class Optimizer
{
    private readonly Parameter[] _parameters;
    private Memory<float>[][] _buffers;
    private string[] _bufferNames;
    private double _learningRate;

    /// <summary>Creates the optimizer over the given parameters.</summary>
    /// <param name="parameters">The parameters, with distinct names and buffers that share no memory.</param>
    /// <param name="learningRate">The initial learning rate (PyTorch's <c>initial_lr</c> for schedules).</param>
    /// <exception cref="ArgumentException">The list is empty, a name repeats, two parameters' buffers overlap, or the learning rate is negative or not finite.</exception>
    private protected Optimizer(IEnumerable<Parameter> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = new List<Parameter>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Parameter parameter in parameters)
        {
            if (parameter is null)
            {
                throw new ArgumentException("The parameter list contains null.", nameof(parameters));
            }

            if (!names.Add(parameter.Name))
            {
                throw new ArgumentException($"Two parameters are named '{parameter.Name}'.", nameof(parameters));
            }

            foreach (Parameter other in list)
            {
                if (parameter.Value.Overlaps(other.Value) || parameter.Value.Overlaps(other.Gradient) || parameter.Gradient.Overlaps(other.Value) || parameter.Gradient.Overlaps(other.Gradient))
                {
                    throw new ArgumentException($"Parameter '{parameter.Name}' shares value or gradient memory with parameter '{other.Name}'.", nameof(parameters));
                }
            }

            list.Add(parameter);
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("The optimizer got an empty parameter list.", nameof(parameters));
        }

        CheckLearningRate(learningRate, nameof(learningRate));
        _parameters = list.ToArray();
        Parameters = Array.AsReadOnly(_parameters);
        _learningRate = learningRate;
        InitialLearningRate = learningRate;
        _bufferNames = Array.Empty<string>();
        _buffers = Array.Empty<Memory<float>[]>();
    }

    /// <summary>The parameters, in the order given to the constructor.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>
    /// The learning rate the next <see cref="Step"/> uses (PyTorch's <c>param_groups[0]['lr']</c>); a
    /// <see cref="LearningRateScheduler"/> sets it. Saved and restored with the state.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            CheckLearningRate(value, nameof(value));
            _learningRate = value;
        }
    }

    /// <summary>The learning rate given at construction (PyTorch's <c>initial_lr</c>, the base of every schedule).</summary>
    public double InitialLearningRate { get; private set; }

    /// <summary>The number of steps taken (PyTorch's <c>state['step']</c>); the next step is number <c>StepCount + 1</c>.</summary>
    public long StepCount { get; private set; }

    /// <summary>PyTorch's class name: <c>SGD</c>, <c>Adam</c> or <c>AdamW</c>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Every state buffer, parameter by parameter, in PyTorch's order (<c>momentum_buffer</c>; or
    /// <c>exp_avg</c>, <c>exp_avg_sq</c>[, <c>max_exp_avg_sq</c>]). The buffers are live (the optimizer's own
    /// memory), in each parameter's packed layout, on 64-byte cache lines; convert them with
    /// <see cref="Parameter.ToPyTorch"/>.
    /// </summary>
    public IEnumerable<OptimizerBuffer> Buffers
    {
        get
        {
            for (int p = 0; p < _parameters.Length; p++)
            {
                for (int b = 0; b < _bufferNames.Length; b++)
                {
                    yield return new OptimizerBuffer(_parameters[p], _bufferNames[b], _buffers[b][p]);
                }
            }
        }
    }

    /// <summary>The names of the state buffers each parameter has, in order.</summary>
    public IReadOnlyList<string> BufferNames => _bufferNames;

    /// <summary>
    /// Performs one optimization step from the gradients in each <see cref="Parameter.Gradient"/>, then
    /// increments <see cref="StepCount"/>. Allocates nothing.
    /// </summary>
    /// <exception cref="NonFiniteGradientException">A gradient holds NaN or infinity; nothing was changed.</exception>
    public void Step()
    {
        CheckGradients(StepCount + 1);
        StepChecked();
    }

    /// <summary>
    /// <see cref="Step"/> for a caller that has just checked every gradient for NaN and infinity itself (the trainer,
    /// which names the layer): the update without a second scan.
    /// </summary>
    internal void StepChecked()
    {
        long step = StepCount + 1;
        for (int p = 0; p < _parameters.Length; p++)
        {
            Update(p, step, 0, _parameters[p].PackedLength);
        }

        StepCount = step;
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of <see cref="StepChecked"/>, for threads updating at once:
    /// each parameter's <see cref="Parameter.Part"/> (contiguous, or the thread's columns of a dense layer split by
    /// columns). Every element gets the update a whole step gives it (the formulas are element-wise); the step count
    /// advances once, with <see cref="CompleteStep"/> after every part.
    /// </summary>
    internal void StepCheckedPart(int part, int parts)
    {
        long step = StepCount + 1;
        for (int p = 0; p < _parameters.Length; p++)
        {
            _parameters[p].Part(part, parts, out int start, out int length);
            if (length > 0)
            {
                Update(p, step, start, length);
            }
        }
    }

    /// <summary>Advances the step count after every part of a step (<see cref="StepCheckedPart"/>).</summary>
    internal void CompleteStep() => StepCount++;

    /// <summary>Sets every gradient to zero (PyTorch's <c>zero_grad(set_to_none=False)</c>).</summary>
    public void ZeroGradients()
    {
        foreach (Parameter parameter in _parameters)
        {
            parameter.Gradient.Clear();
        }
    }

    /// <summary>
    /// Clips the gradients of all parameters by their global L2 norm (see <see cref="GradientClipping.ClipByNorm"/>);
    /// a non-finite gradient is reported as part of the next step.
    /// </summary>
    /// <param name="maxNorm">The largest total norm allowed.</param>
    /// <returns>The total norm before clipping.</returns>
    /// <exception cref="NonFiniteGradientException">A gradient holds NaN or infinity; nothing was changed.</exception>
    public float ClipGradientNorm(double maxNorm) => GradientClipping.ClipByNorm(_parameters, maxNorm, StepCount + 1);

    /// <summary>
    /// Updates elements [start, start + length) of one parameter for step <paramref name="step"/> (1-based); gradients
    /// are known to be finite. The scalars of the step are worked out once.
    /// </summary>
    /// <param name="index">The parameter's index.</param>
    /// <param name="step">The step number (1 on the first step).</param>
    /// <param name="start">The first element (in the packed layout).</param>
    /// <param name="length">Elements to update.</param>
    private protected abstract void Update(int index, long step, int start, int length);

    /// <summary>The buffer <paramref name="buffer"/> (an index into <see cref="BufferNames"/>) of parameter <paramref name="index"/>.</summary>
    private protected Memory<float> Buffer(int buffer, int index) => _buffers[buffer][index];

    /// <summary>The parameter at <paramref name="index"/>.</summary>
    private protected Parameter At(int index) => _parameters[index];

    /// <summary>Allocates zeroed buffers for the given names (constructor and state loading only).</summary>
    private protected void AllocateBuffers(string[] names)
    {
        if (names.AsSpan().SequenceEqual(_bufferNames))
        {
            return;
        }

        var buffers = new Memory<float>[names.Length][];
        for (int b = 0; b < names.Length; b++)
        {
            buffers[b] = new Memory<float>[_parameters.Length];
            for (int p = 0; p < _parameters.Length; p++)
            {
                // on cache lines, as a generated trainer's values and gradients (TrainingBuffers.LineAligned)
                buffers[b][p] = Internal.TrainingBuffers.LineAligned(_parameters[p].PackedLength);
            }
        }

        _buffers = buffers;
        _bufferNames = names;
    }

    private void CheckGradients(long step)
    {
        foreach (Parameter parameter in _parameters)
        {
            if (TrainingMath.FirstNonFinite(parameter.Gradient) >= 0)
            {
                throw parameter.NonFiniteGradient(step);
            }
        }
    }

    private static void CheckLearningRate(double value, string paramName)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(paramName, value, "The learning rate must be finite and non-negative.");
        }
    }

    internal static void CheckRange(double value, double min, double max, bool maxExclusive, string what, string paramName)
    {
        if (!double.IsFinite(value) || value < min || (maxExclusive ? value >= max : value > max))
        {
            string range = string.Format(CultureInfo.InvariantCulture, "[{0}, {1}{2}", min, max, maxExclusive ? ")" : "]");
            throw new ArgumentOutOfRangeException(paramName, value, $"{what} must be finite and in {range}.");
        }
    }
}
