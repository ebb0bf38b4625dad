using System;
using System.Runtime.InteropServices;
using CnnGen.Internal;

namespace CnnGen.Training;

/// <content>
/// Steps and gradient computations on inputs in memory (arrays, <see cref="ReadOnlyMemory{T}"/>) the worker threads can
/// read themselves: on several threads each copies and checks its own slice of the batch, instead of the caller copying
/// the whole batch while the others wait. Only memory backed by an array is read on the workers (the caller asks
/// <see cref="MemoryMarshal.TryGetArray{T}(ReadOnlyMemory{T}, out ArraySegment{T})"/>); other memory is copied by the caller.
/// </content>
public abstract partial class NetworkTrainer
{
    private ArraySegment<float> _source;
    private bool _threadsCopy;
    private bool[] _inputFinite = Array.Empty<bool>();

    /// <summary>Test hook: called by each thread (its index) after it copied its own images in <see cref="CopyInputs"/>; null in use.</summary>
    internal Action<int>? InputsCopied { get; set; }

    /// <summary>
    /// One training step, as <see cref="Step(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Optimizer)"/>, on images in
    /// memory the trainer's threads read themselves: on several threads each copies and checks its own slice of the batch
    /// (the images its batch-split layers read; a dense layer split by columns reads every thread's, after the copy
    /// barrier), which is faster than the span overload, whose caller copies the whole batch while the other threads wait.
    /// The same checks, errors and results, bit for bit.
    /// </summary>
    /// <remarks>
    /// Only memory backed by an array (an array, a slice of one, an <see cref="ArraySegment{T}"/>'s) is read on the worker
    /// threads. Other memory, such as a custom <see cref="System.Buffers.MemoryManager{T}"/>'s, whose <c>GetSpan</c> may be
    /// neither thread-safe nor free, is read once on the calling thread, which copies the batch as the span overload does.
    /// An <see cref="ArraySegment{T}"/> argument is ambiguous between this overload and the span one (CS0121): pass
    /// <c>segment.AsMemory()</c> (the threads copy) or <c>segment.AsSpan()</c> (the caller copies).
    /// </remarks>
    /// <param name="inputs">The images, NCHW: <paramref name="batchSize"/> x <see cref="InputSize"/> floats (a slice of a larger array: <c>array.AsMemory(start, length)</c>).</param>
    /// <param name="labels">One class per image, each in [0, <see cref="Classes"/>).</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <param name="optimizer">An optimizer over <see cref="Parameters"/>.</param>
    /// <returns>The mean loss and the images classified correctly (training mode).</returns>
    /// <exception cref="ArgumentException">A length is wrong, a label is out of range, or an input is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult Step(ReadOnlyMemory<float> inputs, ReadOnlyMemory<int> labels, int batchSize, Optimizer optimizer)
    {
        CheckOptimizer(optimizer);
        StepResult result = GradientsFrom(inputs, labels.Span, default, batchSize, meanSquaredError: false, optimizer);
        return Finish(result, optimizer);
    }

    /// <summary>One training step on arrays holding exactly one batch; see <see cref="Step(ReadOnlyMemory{float}, ReadOnlyMemory{int}, int, Optimizer)"/>.</summary>
    /// <param name="inputs">The images, NCHW: <paramref name="batchSize"/> x <see cref="InputSize"/> floats.</param>
    /// <param name="labels">One class per image, each in [0, <see cref="Classes"/>).</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <param name="optimizer">An optimizer over <see cref="Parameters"/>.</param>
    /// <returns>The mean loss and the images classified correctly (training mode).</returns>
    /// <exception cref="ArgumentException">A length is wrong, a label is out of range, or an input is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult Step(float[] inputs, int[] labels, int batchSize, Optimizer optimizer) =>
        Step(new ReadOnlyMemory<float>(inputs), new ReadOnlyMemory<int>(labels), batchSize, optimizer);

    /// <summary>One training step with the mean squared error, on inputs in memory the threads copy themselves when it is backed by an array; see the label overload.</summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="targets">The wanted outputs (batch x <see cref="OutputSize"/> floats), in the output's (PyTorch) order.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <param name="optimizer">An optimizer over <see cref="Parameters"/>.</param>
    /// <returns>The mean squared error (over every output element of the batch).</returns>
    /// <exception cref="ArgumentException">A length is wrong, or an input or target is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult Step(ReadOnlyMemory<float> inputs, ReadOnlyMemory<float> targets, int batchSize, Optimizer optimizer)
    {
        CheckOptimizer(optimizer);
        StepResult result = GradientsFrom(inputs, default, targets.Span, batchSize, meanSquaredError: true, optimizer);
        return Finish(result, optimizer);
    }

    /// <summary>One training step with the mean squared error, on arrays holding exactly one batch; see the label overload.</summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="targets">The wanted outputs, in the output's (PyTorch) order.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <param name="optimizer">An optimizer over <see cref="Parameters"/>.</param>
    /// <returns>The mean squared error (over every output element of the batch).</returns>
    /// <exception cref="ArgumentException">A length is wrong, or an input or target is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult Step(float[] inputs, float[] targets, int batchSize, Optimizer optimizer) =>
        Step(new ReadOnlyMemory<float>(inputs), new ReadOnlyMemory<float>(targets), batchSize, optimizer);

    /// <summary>
    /// As <see cref="ComputeGradients(ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/>, on images in memory of which each
    /// thread copies and checks its own slice (see <see cref="Step(ReadOnlyMemory{float}, ReadOnlyMemory{int}, int, Optimizer)"/>:
    /// only memory backed by an array is read on the threads; pass an <see cref="ArraySegment{T}"/> as <c>.AsMemory()</c>
    /// or <c>.AsSpan()</c>).
    /// </summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="labels">One class per image.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <returns>The mean loss and the images classified correctly.</returns>
    /// <exception cref="ArgumentException">A length is wrong, a label is out of range, or an input is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult ComputeGradients(ReadOnlyMemory<float> inputs, ReadOnlyMemory<int> labels, int batchSize)
    {
        StepResult result = GradientsFrom(inputs, labels.Span, default, batchSize, meanSquaredError: false);
        Commit();
        return result;
    }

    /// <summary>As <see cref="ComputeGradients(ReadOnlyMemory{float}, ReadOnlyMemory{int}, int)"/>, on arrays holding exactly one batch.</summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="labels">One class per image.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <returns>The mean loss and the images classified correctly.</returns>
    /// <exception cref="ArgumentException">A length is wrong, a label is out of range, or an input is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult ComputeGradients(float[] inputs, int[] labels, int batchSize) =>
        ComputeGradients(new ReadOnlyMemory<float>(inputs), new ReadOnlyMemory<int>(labels), batchSize);

    /// <summary>As the label overload, with the mean squared error against <paramref name="targets"/>.</summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="targets">The wanted outputs.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <returns>The mean squared error.</returns>
    /// <exception cref="ArgumentException">A length is wrong, or an input or target is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult ComputeGradients(ReadOnlyMemory<float> inputs, ReadOnlyMemory<float> targets, int batchSize)
    {
        StepResult result = GradientsFrom(inputs, default, targets.Span, batchSize, meanSquaredError: true);
        Commit();
        return result;
    }

    /// <summary>As the label overload, with the mean squared error, on arrays holding exactly one batch.</summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="targets">The wanted outputs.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <returns>The mean squared error.</returns>
    /// <exception cref="ArgumentException">A length is wrong, or an input or target is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult ComputeGradients(float[] inputs, float[] targets, int batchSize) =>
        ComputeGradients(new ReadOnlyMemory<float>(inputs), new ReadOnlyMemory<float>(targets), batchSize);

    /// <summary>
    /// A training pass whose threads copy their own images from <paramref name="inputs"/> when it is backed by an array
    /// (<see cref="MemoryMarshal.TryGetArray{T}(ReadOnlyMemory{T}, out ArraySegment{T})"/>, on the caller); other memory
    /// (a custom <see cref="System.Buffers.MemoryManager{T}"/>, whose <c>GetSpan</c> may be neither thread-safe nor
    /// free) is read once on the caller, which copies the batch as the span overload does. On one thread the caller
    /// copies either way.
    /// </summary>
    private StepResult GradientsFrom(ReadOnlyMemory<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int batchSize, bool meanSquaredError, Optimizer? optimizer = null)
    {
        if (!MemoryMarshal.TryGetArray(inputs, out ArraySegment<float> segment))
        {
            return Gradients(inputs.Span, labels, targets, batchSize, meanSquaredError, optimizer);
        }

        _source = segment;
        try
        {
            return Gradients(segment.AsSpan(), labels, targets, batchSize, meanSquaredError, optimizer);
        }
        finally
        {
            _source = default; // the trainer keeps no reference to the caller's array
            _threadsCopy = false;
        }
    }

    /// <summary>
    /// A thread's images [begin, end) copied from the caller's array and checked; after a barrier, whether every
    /// thread's were finite (if not, no thread goes on, and the caller throws naming the first bad input). The barrier is
    /// also what a dense layer split by columns that reads the network input relies on: its forward product reads every
    /// thread's images, and the generator emits no barrier before it (the input is in before the pass: copied by the
    /// caller, or by each thread before this barrier). Thread 0 also refreshes the backward kernels' transposed weights
    /// (<see cref="PrepareBackward"/>) before the barrier, while the others still copy (its slice is the smallest but,
    /// since a dense layer split by columns reads every thread's images, not only lines it used itself: its copy need
    /// not end first), and the barrier keeps every backward kernel from reading them before.
    /// </summary>
    private bool CopyInputs(int thread, int begin, int end)
    {
        int size = InputSize, count = (end - begin) * size;
        ReadOnlySpan<float> source = _source.AsSpan(begin * size, count);
        Span<float> destination = _inputs.Span.Slice(begin * size, count);
        _inputFinite[thread] = Buffers.CopyFinite(ref MemoryMarshal.GetReference(source), ref MemoryMarshal.GetReference(destination), count);
        InputsCopied?.Invoke(thread);
        if (thread == 0)
        {
            PrepareBackward(inputGradients: false);
        }

        _pool!.Barrier();
        return Array.IndexOf(_inputFinite, false) < 0;
    }

    /// <summary>After a pass whose threads copied the inputs: throws for the first NaN or infinity when any was not finite.</summary>
    private void CheckCopiedInputs(ReadOnlySpan<float> inputs)
    {
        if (_threadsCopy)
        {
            _threadsCopy = false;
            if (Array.IndexOf(_inputFinite, false) >= 0)
            {
                Guard.ThrowNotFinite(inputs, nameof(inputs));
            }
        }
    }
}
