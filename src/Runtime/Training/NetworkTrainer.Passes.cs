using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CnnGen.Internal;

namespace CnnGen.Training;

/// <content>Steps, gradient computations, forward and backward passes, evaluation.</content>
public abstract partial class NetworkTrainer
{
    private Pass _pass;
    private Optimizer? _stepOptimizer;
    private bool _updated;
    private bool[] _partFinite = Array.Empty<bool>();
    private bool _meanSquaredError;
    private bool _inputGradientsRequested;
    private bool _backwardReady;
    private int _backwardBatch;

    private enum Pass
    {
        Train,
        TrainAndUpdate,
        Forward,
        ForwardTraining,
        Backward,
        Evaluate,
    }

    /// <summary>
    /// One training step on a batch: the forward pass in training mode (batch-norm batch statistics, dropout), the mean
    /// cross-entropy of the logits against <paramref name="labels"/> (a final softmax is folded into the loss), the
    /// backward pass into each <see cref="Parameter.Gradient"/> (overwritten), clipping when
    /// <see cref="TrainerOptions"/> asks, then <paramref name="optimizer"/>.Step(). The running statistics and
    /// <see cref="StepCount"/> advance only when the step succeeds.
    /// </summary>
    /// <param name="inputs">The images, NCHW: <paramref name="batchSize"/> x <see cref="InputSize"/> floats.</param>
    /// <param name="labels">One class per image, each in [0, <see cref="Classes"/>).</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <param name="optimizer">An optimizer over <see cref="Parameters"/>.</param>
    /// <returns>The mean loss and the images classified correctly (training mode).</returns>
    /// <exception cref="ArgumentException">A length is wrong, a label is out of range, or an input is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult Step(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize, Optimizer optimizer)
    {
        CheckOptimizer(optimizer);
        StepResult result = Gradients(inputs, labels, default, batchSize, meanSquaredError: false, optimizer);
        return Finish(result, optimizer);
    }

    /// <summary>One training step with the mean squared error against <paramref name="targets"/> (batch x <see cref="OutputSize"/> floats); see the label overload.</summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="targets">The wanted outputs, in the output's (PyTorch) order.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <param name="optimizer">An optimizer over <see cref="Parameters"/>.</param>
    /// <returns>The mean squared error (over every output element of the batch).</returns>
    /// <exception cref="ArgumentException">A length is wrong, or an input or target is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult Step(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize, Optimizer optimizer)
    {
        CheckOptimizer(optimizer);
        StepResult result = Gradients(inputs, default, targets, batchSize, meanSquaredError: true, optimizer);
        return Finish(result, optimizer);
    }

    /// <summary>
    /// The forward pass in training mode, the mean cross-entropy and the backward pass, without the optimizer: fills each
    /// <see cref="Parameter.Gradient"/> (overwritten). The running statistics and <see cref="StepCount"/> advance.
    /// </summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="labels">One class per image.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <returns>The mean loss and the images classified correctly.</returns>
    /// <exception cref="ArgumentException">A length is wrong, a label is out of range, or an input is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize)
    {
        StepResult result = Gradients(inputs, labels, default, batchSize, meanSquaredError: false);
        Commit();
        return result;
    }

    /// <summary>As the label overload, with the mean squared error against <paramref name="targets"/>.</summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="targets">The wanted outputs.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <returns>The mean squared error.</returns>
    /// <exception cref="ArgumentException">A length is wrong, or an input or target is NaN or infinite; nothing changed.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is not finite; nothing changed but the gradients.</exception>
    public StepResult ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batchSize)
    {
        StepResult result = Gradients(inputs, default, targets, batchSize, meanSquaredError: true);
        Commit();
        return result;
    }

    /// <summary>
    /// Runs the whole network (a final softmax included) on a batch. In training mode batch norm uses and updates the
    /// batch statistics, dropout draws a mask, <see cref="StepCount"/> advances, and <see cref="Backward(ReadOnlySpan{float})"/>
    /// may follow; in evaluation mode batch norm uses the running statistics and dropout is the identity.
    /// </summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="batchSize">Images in the batch.</param>
    /// <param name="outputs">Receives batch x <see cref="OutputSize"/> floats, PyTorch's order.</param>
    /// <param name="training">Training or evaluation mode.</param>
    /// <exception cref="ArgumentException">A length is wrong or an input is NaN or infinite; nothing changed.</exception>
    public void Forward(ReadOnlySpan<float> inputs, int batchSize, Span<float> outputs, bool training)
    {
        CheckLength(outputs.Length, (long)batchSize * OutputSize, nameof(outputs), "outputs");
        Prepare(inputs, batchSize, training);
        if (!training)
        {
            PrepareEvaluation();
        }

        Run(training ? Pass.ForwardTraining : Pass.Forward, batchSize);
        _outputsBuffer.AsSpan(0, batchSize * OutputSize).CopyTo(outputs);
        if (training)
        {
            Commit();
            _backwardReady = true;
            _backwardBatch = batchSize;
        }
    }

    /// <summary>
    /// Back-propagates d loss / d output of the last training-mode <see cref="Forward"/> through the whole network: fills
    /// each <see cref="Parameter.Gradient"/> (overwritten).
    /// </summary>
    /// <param name="outputGradients">d loss / d output: batch x <see cref="OutputSize"/> floats, PyTorch's order.</param>
    /// <exception cref="InvalidOperationException">The last pass was not a training-mode <see cref="Forward"/>.</exception>
    /// <exception cref="ArgumentException">The length is wrong or a gradient is NaN or infinite.</exception>
    public void Backward(ReadOnlySpan<float> outputGradients) => Backward(outputGradients, Span<float>.Empty, withInputGradients: false);

    /// <summary>As <see cref="Backward(ReadOnlySpan{float})"/>, also writing d loss / d input (batch x <see cref="InputSize"/>, NCHW).</summary>
    /// <param name="outputGradients">d loss / d output.</param>
    /// <param name="inputGradients">Receives d loss / d input.</param>
    /// <exception cref="InvalidOperationException">The last pass was not a training-mode <see cref="Forward"/>.</exception>
    /// <exception cref="ArgumentException">A length is wrong or a gradient is NaN or infinite.</exception>
    public void Backward(ReadOnlySpan<float> outputGradients, Span<float> inputGradients) => Backward(outputGradients, inputGradients, withInputGradients: true);

    /// <summary>
    /// The mean cross-entropy and accuracy on <paramref name="count"/> images in evaluation mode (running batch-norm
    /// statistics, no dropout), in chunks of at most <see cref="Capacity"/> images (64 before the first step).
    /// </summary>
    /// <param name="inputs">The images, NCHW.</param>
    /// <param name="labels">One class per image.</param>
    /// <param name="count">Images.</param>
    /// <returns>The loss and the images classified correctly.</returns>
    /// <exception cref="ArgumentException">A length is wrong, a label is out of range, or an input is NaN or infinite.</exception>
    /// <exception cref="InvalidOperationException">The network's output is not a vector of class scores.</exception>
    public Evaluation Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count)
    {
        RequireClasses();
        CheckBatch(inputs.Length, count, training: false);
        CheckLabels(labels, count);
        Guard.Finite(inputs, nameof(inputs));
        _backwardReady = false;
        _meanSquaredError = false;
        int chunk = Math.Max(_capacity, Math.Min(count, 64));
        double loss = 0;
        int correct = 0;
        for (int start = 0; start < count; start += chunk)
        {
            int n = Math.Min(chunk, count - start);
            EnsureCapacity(n);
            inputs.Slice(start * InputSize, n * InputSize).CopyTo(_inputs.Span);
            labels.Slice(start, n).CopyTo(_labels);
            PrepareEvaluation();

            Run(Pass.Evaluate, n);
            for (int i = 0; i < n; i++)
            {
                loss += _losses[i];
                correct += _correct[i] ? 1 : 0;
            }
        }

        return new Evaluation(count == 0 ? 0 : loss / count, correct, count);
    }

    private void Backward(ReadOnlySpan<float> outputGradients, Span<float> inputGradients, bool withInputGradients)
    {
        if (!_backwardReady)
        {
            throw new InvalidOperationException($"{Network}: Backward needs a training-mode Forward just before it (another pass has overwritten the stored activations).");
        }

        int batch = _backwardBatch;
        CheckLength(outputGradients.Length, (long)batch * OutputSize, nameof(outputGradients), "outputGradients");
        if (withInputGradients)
        {
            CheckLength(inputGradients.Length, (long)batch * InputSize, nameof(inputGradients), "inputGradients");
        }

        Guard.Finite(outputGradients, nameof(outputGradients));
        outputGradients.CopyTo(_outputGradients);
        _inputGradientsRequested = withInputGradients;
        PrepareBackward(withInputGradients);
        Run(Pass.Backward, batch);
        ReduceGradients();
        if (withInputGradients)
        {
            _inputGradients.AsSpan(0, batch * InputSize).CopyTo(inputGradients);
        }
    }

    /// <summary>
    /// Forward, loss and backward of a training pass; nothing is committed yet. With an <paramref name="optimizer"/> on
    /// several threads (and no clipping, which needs the whole gradient's norm first), the threads go on in the same
    /// job: after a barrier each sums, checks and updates its part of every parameter (<see cref="Parameter.Part"/>: a slice,
    /// or its own columns of a layer split by columns),
    /// the update only once every part is finite; <c>_updated</c> then says the optimizer has run.
    /// </summary>
    private StepResult Gradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int batchSize, bool meanSquaredError, Optimizer? optimizer = null)
    {
        if (meanSquaredError)
        {
            CheckLength(targets.Length, (long)batchSize * OutputSize, nameof(targets), "targets");
            Guard.Finite(targets, nameof(targets));
        }
        else
        {
            RequireClasses();
            CheckLabels(labels, batchSize);
        }

        Prepare(inputs, batchSize, training: true);
        if (meanSquaredError)
        {
            targets.CopyTo(_targets);
        }
        else
        {
            labels.CopyTo(_labels);
        }

        _meanSquaredError = meanSquaredError;
        if (!_threadsCopy)
        {
            PrepareBackward(inputGradients: false); // else thread 0 does, while the others copy their images
        }

        bool update = optimizer is not null && _pool is not null && Options.MaxGradientNorm is null;
        _stepOptimizer = update ? optimizer : null;
        Run(update ? Pass.TrainAndUpdate : Pass.Train, batchSize);
        _stepOptimizer = null;
        CheckCopiedInputs(inputs);
        double loss = LossSum(batchSize);
        int correct = 0;
        for (int i = 0; i < batchSize; i++)
        {
            correct += _correct[i] ? 1 : 0;
        }

        loss = meanSquaredError ? loss / ((double)batchSize * OutputSize) : loss / batchSize;
        if (!double.IsFinite(loss))
        {
            Discard();
            throw new TrainingDivergedException(StepCount + 1, FirstNonFiniteLayer(batchSize), loss);
        }

        _updated = update && AllPartsFinite();
        if (_updated)
        {
            return new StepResult(loss, correct, batchSize);
        }

        if (!update)
        {
            ReduceGradients();
        }

        for (int p = 0; p < _parameters.Count; p++)
        {
            int bad = TrainingMath.FirstNonFinite(_parameters[p].Gradient);
            if (bad >= 0)
            {
                Discard();
                throw new TrainingDivergedException(StepCount + 1, _parameterLayers[p], _parameters[p].Name, bad, _parameters[p].Gradient[bad]);
            }
        }

        return new StepResult(loss, correct, batchSize);
    }

    private StepResult Finish(StepResult result, Optimizer optimizer)
    {
        if (_updated)
        {
            _updated = false;
            optimizer.CompleteStep();
            Commit();
            return result;
        }

        try
        {
            if (Options.MaxGradientNorm is double maxNorm)
            {
                GradientClipping.ClipByNorm(_parameters, maxNorm, StepCount + 1);
            }

            optimizer.StepChecked(); // the gradients were checked after the backward pass (clipping keeps them finite)
        }
        catch
        {
            Discard();
            throw;
        }

        Commit();
        return result;
    }

    /// <summary>
    /// Validates a batch and copies it in (checking NaN and infinity in the same pass): throws before anything changes but
    /// the input buffer, so a <see cref="Backward(ReadOnlySpan{float})"/> that would read it is refused from here on. On
    /// several threads with the caller's array (<c>_source</c>) the threads copy their own images at the start of the pass.
    /// </summary>
    private void Prepare(ReadOnlySpan<float> inputs, int batchSize, bool training)
    {
        CheckBatch(inputs.Length, batchSize, training);
        EnsureCapacity(batchSize);
        _backwardReady = false;
        _threadsCopy = _pool is not null && _source.Count > 0;
        if (!_threadsCopy && !Buffers.CopyFinite(ref MemoryMarshal.GetReference(inputs), ref MemoryMarshal.GetReference(_inputs.Span), inputs.Length))
        {
            Guard.ThrowNotFinite(inputs, nameof(inputs));
        }
    }

    private void Run(Pass pass, int batch)
    {
        _pass = pass;
        BatchSize = batch;
        if (_pool is null)
        {
            Slice(0);
        }
        else
        {
            _pool.Run(_slice);
        }
    }

    /// <summary>One thread's share of a pass: a contiguous slice of the batch.</summary>
    private void Slice(int thread)
    {
        int batch = BatchSize;
        int begin = (int)((long)batch * thread / Threads), end = (int)((long)batch * (thread + 1) / Threads);
        switch (_pass)
        {
            case Pass.Train:
            case Pass.TrainAndUpdate:
                if (_threadsCopy && !CopyInputs(thread, begin, end))
                {
                    break; // an input was not finite: no thread goes on, the caller throws
                }

                ForwardSlice(thread, begin, end, training: true, logits: !_meanSquaredError);
                Loss(begin, end, gradients: true);
                ClearGradients(thread);
                BackwardSlice(thread, begin, end, fromLogits: !_meanSquaredError, inputGradients: false);
                if (_pass == Pass.TrainAndUpdate)
                {
                    ReduceAndUpdate(thread);
                }

                break;
            case Pass.Forward:
            case Pass.ForwardTraining:
                ForwardSlice(thread, begin, end, training: _pass == Pass.ForwardTraining, logits: false);
                break;
            case Pass.Backward:
                ClearGradients(thread);
                BackwardSlice(thread, begin, end, fromLogits: false, inputGradients: _inputGradientsRequested);
                break;
            default:
                ForwardSlice(thread, begin, end, training: false, logits: true);
                Loss(begin, end, gradients: false);
                break;
        }
    }

    /// <summary>Clears the thread's gradient buffers the backward kernels add into (those they store whole are left).</summary>
    private void ClearGradients(int thread)
    {
        Memory<float>[] gradients = _threadGradients[thread];
        for (int p = 0; p < gradients.Length; p++)
        {
            if (!_gradientOverwritten[p])
            {
                gradients[p].Span.Clear();
            }
        }
    }

    /// <summary>The loss of images [begin, end) and, when asked, d loss / d outputs (or logits) into <see cref="OutputGradients"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Loss(int begin, int end, bool gradients)
    {
        int batch = BatchSize, size = OutputSize;
        for (int i = begin; i < end; i++)
        {
            ReadOnlySpan<float> y = _outputsBuffer.AsSpan(i * size, size);
            Span<float> dy = gradients ? _outputGradients.AsSpan(i * size, size) : Span<float>.Empty;
            if (_meanSquaredError)
            {
                _losses[i] = TrainingLoss.SquaredError(y, _targets.AsSpan(i * size, size), dy, (double)batch * size);
                _correct[i] = false;
            }
            else
            {
                _losses[i] = TrainingLoss.CrossEntropy(y, _labels[i], Options.LabelSmoothing, dy, batch);
                _correct[i] = Guard.ArgMax(y) == _labels[i];
            }
        }
    }

    /// <summary>
    /// A thread's part of the optimizer step, after every thread's backward: its part of each parameter's gradient summed
    /// (thread order, as <see cref="ReduceGradients"/>) and checked; once every part is finite (and the loss is: each
    /// thread adds the same losses in the same order), its part of each parameter updated.
    /// </summary>
    private void ReduceAndUpdate(int thread)
    {
        _pool!.Barrier();
        if (!double.IsFinite(LossSum(BatchSize)))
        {
            return;
        }

        bool finite = true;
        for (int p = 0; p < _parameters.Count; p++)
        {
            Parameter parameter = _parameters[p];
            Span<float> gradient = parameter.Gradient;
            parameter.Part(thread, Threads, out int start, out int length);
            if (parameter.ColumnBlockFloats > 0)
            {
                // the thread's own columns, which it stored itself: nothing to sum
                finite &= length == 0 || FiniteScan.All(ref MemoryMarshal.GetReference(gradient.Slice(start, length)), length);

                continue;
            }

            // thread order, as ReduceGradients; the last add also checks the sums
            Span<float> part = gradient.Slice(start, length);
            for (int t = 1; t < Threads - 1; t++)
            {
                TrainingMath.Add(part, _threadGradients[t][p].Span.Slice(start, length));
            }

            finite &= GradientReduce.AddFinite(part, _threadGradients[Threads - 1][p].Span.Slice(start, length));
        }

        _partFinite[thread] = finite;
        _pool.Barrier();
        if (AllPartsFinite())
        {
            _stepOptimizer!.StepCheckedPart(thread, Threads);
        }
    }

    private bool AllPartsFinite()
    {
        foreach (bool finite in _partFinite)
        {
            if (!finite)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The losses of the batch's images added in image order.</summary>
    private double LossSum(int batch)
    {
        double loss = 0;
        for (int i = 0; i < batch; i++)
        {
            loss += _losses[i];
        }

        return loss;
    }

    /// <summary>Parameter gradients = the threads' buffers summed in thread order (thread 0's are the gradients themselves).</summary>
    private void ReduceGradients()
    {
        for (int t = 1; t < Threads; t++)
        {
            for (int p = 0; p < _parameters.Count; p++)
            {
                if (_parameters[p].ColumnBlockFloats == 0) // a column-split gradient is one buffer already
                {
                    TrainingMath.Add(_parameters[p].Gradient, _threadGradients[t][p].Span);
                }
            }
        }
    }

    /// <summary>Batch norm normalizes with the running statistics.</summary>
    private void PrepareEvaluation()
    {
        foreach (BatchNormTraining bn in _batchNorms)
        {
            bn.PrepareEvaluation();
        }
    }

    private void Commit()
    {
        foreach (BatchNormTraining bn in _batchNorms)
        {
            bn.Commit();
        }

        StepCount++;
    }

    private void Discard()
    {
        foreach (BatchNormTraining bn in _batchNorms)
        {
            bn.Discard();
        }
    }

    /// <summary>The first layer (in step order) whose output holds NaN or infinity in some image, or <c>loss</c>.</summary>
    private string FirstNonFiniteLayer(int batch)
    {
        foreach ((string layer, int offset, int floats) in _outputs)
        {
            for (int i = 0; i < batch; i++)
            {
                if (TrainingMath.FirstNonFinite(_workspace.Span.Slice((i * _imageFloats) + offset, floats)) >= 0)
                {
                    return layer;
                }
            }
        }

        return "loss";
    }

    private void CheckBatch(int inputs, int batchSize, bool training)
    {
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch needs at least one image.");
        }

        CheckLength(inputs, (long)batchSize * InputSize, "inputs", "inputs");
        if (training && _batchNormPixels > 0 && (long)batchSize * _batchNormPixels < 2)
        {
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                "{0}: batch norm in training mode needs more than one value per channel; a batch of {1} gives {2}. Use a larger batch.",
                Network, batchSize, (long)batchSize * _batchNormPixels), nameof(batchSize));
        }
    }

    private void CheckLabels(ReadOnlySpan<int> labels, int count)
    {
        CheckLength(labels.Length, count, nameof(labels), "labels");
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)Classes)
            {
                throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                    "labels[{0}] is {1}; {2} has {3} classes, so labels must be in [0, {3})", i, labels[i], Network, Classes), nameof(labels));
            }
        }
    }

    private void RequireClasses()
    {
        if (Classes == 0)
        {
            throw new InvalidOperationException($"{Network}'s output is not a vector of class scores, so it has no cross-entropy; train it with the mean squared error (the overloads taking float targets).");
        }
    }

    private void CheckLength(long actual, long expected, string paramName, string what)
    {
        if (actual != expected)
        {
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture, "{0} has {1} elements but {2} needs {3}", what, actual, Network, expected), paramName);
        }
    }
}
