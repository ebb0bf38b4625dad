using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;
using CnnGen.Generator.Planning.Kernels;

namespace CnnGen.Generator.Planning.Passes;

/// <content>The training forward driver, and the backward operations of every step (before gradients have slots).</content>
internal sealed partial class BackwardBuilder
{
    /// <summary>The forward driver: each step's kernel per image (dense layers over the thread's images), batch norm with batch statistics in training, dropout masks; then the output or logits copy.</summary>
    private List<TrainingOp> ForwardOps()
    {
        var ops = new List<TrainingOp>();
        int n = 0;
        for (int s = 0; s < _plan.Steps.Count; s++)
        {
            var step = _plan.Steps[s];
            if (step.Kind == StepKind.CopyOutput)
            {
                continue;
            }

            var when = s == _graph.FoldedSoftmax ? When.FullOutput : When.Always;
            ops.Add(new StepOp(I(++n) + ". " + step.Title) { When = when });
            switch (step.Kind)
            {
                case StepKind.Dense:
                {
                    var k = DenseForward(step);
                    Kernel(k);
                    var l = LayerOf(step.Layer);
                    var args = new[] { Arg(step.Inputs[0]), Arg(step.Output), new CallArg(ArgKind.Count), Field(l.WeightField), Field(l.BiasField) };
                    if (!l.SplitColumns)
                    {
                        ops.Add(Batched(k.Method, when, args));
                        break;
                    }

                    // split by columns: it reads every image's input (the others' too) and the next step reads columns the
                    // other threads wrote. No barrier before it when it reads the network input: that is in before the
                    // pass, copied by the caller, or by each thread before the copy barrier in NetworkTrainer.CopyInputs
                    // (the runtime's barrier this product relies on)
                    if (step.Inputs[0] != 0)
                    {
                        ops.Add(new SyncOp { When = when });
                    }

                    ops.Add(Columns(k.Method, when, k.Y.Cp / V, args));
                    ops.Add(new SyncOp { When = when });
                    break;
                }

                case StepKind.BatchNorm:
                    ops.AddRange(BatchNormForward(s, step));
                    break;
                case StepKind.Dropout:
                {
                    var k = Dropout(s, step);
                    Kernel(k);
                    ops.Add(Call(k.Method, When.Training, Arg(step.Inputs[0]), Arg(step.Output), new CallArg(ArgKind.Tensor, _masks[s].Offset, _masks[s].Name),
                        new CallArg(ArgKind.DropoutSeed, 0, Name(step.Layer)), new CallArg(ArgKind.Image)));
                    ops.Add(Call(k.CopyMethod, When.Evaluation, Arg(step.Inputs[0]), Arg(step.Output)));
                    break;
                }

                default:
                {
                    Kernel(step.Kernel);
                    var args = step.Arguments.Select(Arg).ToList();
                    if (step.Kind is StepKind.Conv or StepKind.DepthwiseConv)
                    {
                        var l = LayerOf(step.Layer);
                        args.Add(Field(l.WeightField));
                        args.Add(Field(l.BiasField));
                    }

                    ops.Add(Call(step.Method, when, args.ToArray()));
                    break;
                }
            }
        }

        var copy = _plan.Steps[_plan.Steps.Count - 1];
        Kernel(copy.Kernel);
        if (_graph.FoldedSoftmax >= 0)
        {
            var logits = T(_graph.LogitsTensor);
            var k = new CopyOutputKernel { Method = "CopyLogits", Title = $"copy the logits '{logits.Name}' to the trainer's outputs", X = logits, OutputShape = $"[{I(logits.C)}]", Mode = CopyMode.Whole };
            Kernel(k);
            ops.Add(new StepOp("The logits (the cross-entropy folds the final softmax), or the output") { When = When.Always });
            ops.Add(Call(k.Method, When.Logits, Arg(_graph.LogitsTensor), new CallArg(ArgKind.Output)));
            ops.Add(Call(copy.Method, When.FullOutput, Arg(copy.Inputs[0]), new CallArg(ArgKind.Output)));
        }
        else
        {
            ops.Add(new StepOp("The output, PyTorch's order"));
            ops.Add(Call(copy.Method, When.Always, Arg(copy.Inputs[0]), new CallArg(ArgKind.Output)));
        }

        return ops;
    }

    /// <summary>Batch norm in training mode: per-image sums, the batch mean, per-image squared deviations, the variance; then the normalization (the forward's kernel, with the batch's or the running scale and shift).</summary>
    private IEnumerable<TrainingOp> BatchNormForward(int s, StepPlan step)
    {
        var l = LayerOf(step.Layer);
        int x = step.Inputs[0];
        var stats = new CallArg(ArgKind.Statistics, _statistics[s]);
        string id = step.Method;
        var sums = new BatchNormStatisticsKernel { Method = id + "Sums", Title = $"{Name(step.Layer)}: per-channel sums of one image (the batch mean's share)", Kind = StatisticsKind.Sums, X = T(x), OutputGradient = null };
        var squares = new BatchNormStatisticsKernel { Method = id + "Squares", Title = $"{Name(step.Layer)}: per-channel sums of squared deviations from the batch mean (the variance's share)", Kind = StatisticsKind.Squares, X = T(x), OutputGradient = null };
        Kernel(sums);
        Kernel(squares);
        Kernel(step.Kernel);
        int pixels = T(x).H * T(x).W;
        yield return Call(sums.Method, When.Training, Arg(x), stats);
        yield return new SyncOp { When = When.Training };
        yield return new CombineOp { When = When.Training, StateField = l.StateField!, Phase = CombinePhase.Mean, StatisticsOffset = _statistics[s], Pixels = pixels };
        yield return new SyncOp { When = When.Training };
        yield return Call(squares.Method, When.Training, Arg(x), stats, Field(l.StateField + ".BatchMean"));
        yield return new SyncOp { When = When.Training };
        yield return new CombineOp { When = When.Training, StateField = l.StateField!, Phase = CombinePhase.Variance, StatisticsOffset = _statistics[s], Pixels = pixels };
        yield return new SyncOp { When = When.Training };
        yield return Call(step.Method, When.Always, Arg(x), Arg(step.Output), Field(l.StateField + ".Scale"), Field(l.StateField + ".Shift"));
    }

    private When Guard(int tensor) => _graph.OnRequest(tensor) ? When.InputGradients : When.Always;

    private Node Add(When when, int writes, bool covering, IEnumerable<int> reads, System.Func<Node, IEnumerable<TrainingOp>> emit)
    {
        var node = new Node { When = when, Writes = writes, Covering = covering };
        node.Reads.AddRange(reads);
        node.Emit = () => emit(node);
        _nodes.Add(node);
        return node;
    }

    /// <summary>The backward operations, in backward order: the loss gradient's entry, then every active step in reverse.</summary>
    private void BackwardNodes()
    {
        int output = _graph.OutputTensor, logits = _graph.LogitsTensor;
        Add(When.Always, -1, false, new int[0], _ => new TrainingOp[] { new StepOp("d loss / d output (or d logits), from the trainer's buffer") });
        if (_graph.FoldedSoftmax >= 0)
        {
            _nodes.Add(ClearNode(logits, When.Logits));
            GradientIn(logits, "LogitsGradients", When.Logits);
            _nodes.Add(ClearNode(output, When.FullOutput));
            GradientIn(output, "OutputGradients", When.FullOutput);
            _nodes.Add(ClearNode(logits, When.FullOutput));
            var softmax = _plan.Steps[_graph.FoldedSoftmax];
            Add(When.FullOutput, logits, false, new[] { output }, node => new TrainingOp[] { SoftmaxBackward(softmax, node.Accumulate, When.FullOutput) });
        }
        else
        {
            _nodes.Add(ClearNode(output, When.Always));
            GradientIn(output, "OutputGradients", When.Always);
        }

        for (int s = _plan.Steps.Count - 2; s >= 0; s--)
        {
            var step = _plan.Steps[s];
            if (_graph.Active[s] && s != _graph.FoldedSoftmax)
            {
                StepNodes(s, step);
            }
        }

        if (_graph.InputTensor == 0 && _graph.Needed[0])
        {
            InputGradientsOut(0);
        }
    }

    private void GradientIn(int tensor, string method, When when) =>
        Add(when, tensor, false, new int[0], node =>
        {
            var k = new GradientInKernel { Method = method, Title = $"d loss / d '{T(tensor).Name}' from the trainer's buffer (PyTorch's order) into its gradient tensor", Y = Grad(tensor), Shape = _plan.Net.Output.ToPyTorch() };
            Kernel(k);
            return new TrainingOp[] { Call(method, when, new CallArg(ArgKind.OutputGradient), GradientArg(tensor)) };
        });

    private void InputGradientsOut(int tensor) =>
        Add(When.InputGradients, -1, false, new[] { tensor }, _ =>
        {
            var g = Grad(tensor);
            var k = new CopyOutputKernel
            {
                Method = "InputGradients",
                Title = $"copy d loss / d input to the trainer's buffer (NCHW)",
                X = g,
                OutputShape = _plan.Net.Input.ToPyTorch(),
                Mode = g.Layout == Layout.Flat ? CopyMode.Whole : CopyMode.TransposeRows,
            };
            Kernel(k);
            return new TrainingOp[] { new StepOp("d loss / d input, NCHW") { When = When.InputGradients }, Call(k.Method, When.InputGradients, GradientArg(tensor), new CallArg(ArgKind.InputGradient)) };
        });

    private void StepNodes(int s, StepPlan step)
    {
        int y = step.Output, x = step.Inputs.Count > 0 ? step.Inputs[0] : -1;
        Add(When.Always, -1, false, new int[0], _ => new TrainingOp[] { new StepOp("backward of " + step.Title) });
        bool fused = step.Activation.Kind is not (Activation.None or Activation.Softmax) && step.Kind is not (StepKind.Activation or StepKind.Softmax);
        if (fused && !ReluFoldsIntoPool(y))
        {
            Add(Guard(y), -1, false, new[] { y }, _ => new TrainingOp[] { InPlaceActivation(step) });
        }

        switch (step.Kind)
        {
            case StepKind.PackInput:
                InputGradientsOut(y);
                break;
            case StepKind.Conv:
                ConvNodes(step);
                break;
            case StepKind.DepthwiseConv:
                DepthwiseNodes(step);
                break;
            case StepKind.Dense:
                DenseNodes(step);
                break;
            case StepKind.BatchNorm:
                BatchNormNodes(s, step);
                break;
            case StepKind.Pool when _maxima.ContainsKey(x):
                PoolMaximaNodes(step);
                break;
            case StepKind.Pool:
                Add(Guard(x), x, PoolTiles(step), new[] { y }, node => new TrainingOp[] { PoolBackward(step, node.Accumulate) });
                break;
            case StepKind.AdaptivePool:
                Add(Guard(x), x, false, new[] { y }, _ => new TrainingOp[] { AdaptivePoolBackward(step) });
                break;
            case StepKind.GlobalPool:
                Add(Guard(x), x, true, new[] { y }, node => new TrainingOp[] { GlobalPoolBackward(step, node.Accumulate) });
                break;
            case StepKind.Activation:
                Add(Guard(x), x, true, new[] { y }, node => new TrainingOp[] { ActivationBackward(step, node.Accumulate) });
                break;
            case StepKind.Softmax:
                Add(Guard(x), x, false, new[] { y }, node => new TrainingOp[] { SoftmaxBackward(step, node.Accumulate, Guard(x)) });
                break;
            case StepKind.Dropout:
                Add(Guard(x), x, true, new[] { y }, node => new TrainingOp[] { DropoutBackward(s, step, node.Accumulate) });
                break;
            case StepKind.Add:
                for (int k = 0; k < step.Inputs.Count; k++)
                {
                    int to = step.Inputs[k];
                    string method = step.Method + "Backward" + I(k);
                    Add(Guard(to), to, true, new[] { y }, node => new TrainingOp[] { Route(method, y, to, 0, node.Accumulate) });
                }

                break;
            case StepKind.Multiply:
                MultiplyNodes(step);
                break;
            case StepKind.Concat:
            {
                int offset = 0;
                for (int k = 0; k < step.Inputs.Count; k++)
                {
                    int to = step.Inputs[k], at = offset;
                    string method = step.Method + "Backward" + I(k);
                    bool vectors = at % V == 0 && T(to).C % V == 0;
                    Add(Guard(to), to, vectors, new[] { y }, node => new TrainingOp[] { Route(method, y, to, at, node.Accumulate) });
                    offset += T(to).C;
                }

                break;
            }

            default:
                // Never a silent skip: a step without a backward would leave its inputs' gradients at zero.
                throw new CnnGen.Generator.Shapes.NotTrainableException(step.Layer, step.Title);
        }
    }

    /// <summary>
    /// A Multiply's operands: of equal shapes, each gets dy times the other (a tensor multiplied by itself gets both); of a
    /// map and a per-channel scale, the map gets dy times the scale and the scale the sum over pixels of dy times the map.
    /// </summary>
    private void MultiplyNodes(StepPlan step)
    {
        int y = step.Output;
        if (!((MultiplyKernel)step.Kernel).Broadcast)
        {
            for (int k = 0; k < 2; k++)
            {
                int to = step.Inputs[k], factor = step.Inputs[1 - k];
                string method = step.Method + "Backward" + I(k);
                Add(Guard(to), to, true, new[] { y }, node => new TrainingOp[] { MultiplyBackward(step, MultiplyGradient.Operand, method, to, factor, node.Accumulate) });
            }

            return;
        }

        int first = step.Inputs[0], second = step.Inputs[1];
        bool scaleFirst = (T(first).H * T(first).W) < (T(second).H * T(second).W);
        int map = scaleFirst ? second : first, scale = scaleFirst ? first : second;
        Add(Guard(map), map, true, new[] { y }, node => new TrainingOp[] { MultiplyBackward(step, MultiplyGradient.Map, step.Method + "BackwardMap", map, scale, node.Accumulate) });
        Add(Guard(scale), scale, true, new[] { y }, node => new TrainingOp[] { MultiplyBackward(step, MultiplyGradient.Scale, step.Method + "BackwardScale", scale, map, node.Accumulate) });
    }

    private void ConvNodes(StepPlan step)
    {
        var l = LayerOf(step.Layer);
        int x = step.Inputs[0], y = step.Output;
        if (step.FusedAdd >= 0)
        {
            int residual = step.Inputs[1];
            Add(Guard(residual), residual, true, new[] { y }, node => new TrainingOp[] { Route(step.Method + "BackwardResidual", y, residual, 0, node.Accumulate) });
        }

        if (l.HasBias && !BiasFoldsIntoPool(y))
        {
            Add(When.Always, -1, false, new[] { y }, _ => new TrainingOp[] { ConvBias(step, l) });
        }

        if (_maxima.ContainsKey(y))
        {
            Add(When.Always, -1, false, new[] { MaximaKey(y) }, _ => new TrainingOp[] { ConvWeightsFromMaxima(step, l) });
        }
        else
        {
            Add(When.Always, -1, false, new[] { y }, _ => new TrainingOp[] { ConvWeights(step, l) });
        }

        Add(Guard(x), x, false, new[] { y }, _ => new TrainingOp[] { ConvData(step, l) });
    }

    private void DepthwiseNodes(StepPlan step)
    {
        var l = LayerOf(step.Layer);
        int x = step.Inputs[0], y = step.Output;
        if (step.FusedAdd >= 0)
        {
            int residual = step.Inputs[1];
            Add(Guard(residual), residual, true, new[] { y }, node => new TrainingOp[] { Route(step.Method + "BackwardResidual", y, residual, 0, node.Accumulate) });
        }

        Add(When.Always, -1, false, new[] { y }, _ => new TrainingOp[] { DepthwiseWeights(step, l) });
        Add(Guard(x), x, false, new[] { y }, _ => new TrainingOp[] { DepthwiseData(step, l) });
    }

    private void DenseNodes(StepPlan step)
    {
        var l = LayerOf(step.Layer);
        int x = step.Inputs[0], y = step.Output;
        // split by columns, the weight gradient reads every image's dy: wait for the threads that wrote them, and keep
        // dy's slot to the end of the pass (no barrier after it: the other threads go on with their images)
        if (l.SplitColumns)
        {
            _readByEveryThread.Add(y);
        }

        Add(When.Always, -1, false, new[] { y }, _ => l.SplitColumns ? new TrainingOp[] { new SyncOp(), DenseWeights(step, l) } : new TrainingOp[] { DenseWeights(step, l) });
        Add(Guard(x), x, true, new[] { y }, node => new TrainingOp[] { DenseData(step, l, node.Accumulate) });
    }

    private void BatchNormNodes(int s, StepPlan step)
    {
        var l = LayerOf(step.Layer);
        int x = step.Inputs[0], y = step.Output;
        var stats = new CallArg(ArgKind.Statistics, _statistics[s]);
        Add(When.Always, -1, false, new[] { y }, _ =>
        {
            var k = new BatchNormStatisticsKernel { Method = step.Method + "BackwardSums", Title = $"{Name(step.Layer)}: per-channel sums of dy and dy * (x - mean) of one image (the batch's share)", Kind = StatisticsKind.Gradients, X = T(x), OutputGradient = Grad(y) };
            Kernel(k);
            return new TrainingOp[]
            {
                Call(k.Method, When.Always, Arg(x), GradientArg(y), stats, Field(l.StateField + ".Mean")),
                new SyncOp(),
                new CombineOp { StateField = l.StateField!, Phase = CombinePhase.Gradients, StatisticsOffset = _statistics[s], Pixels = T(x).H * T(x).W, GammaGradient = l.WeightGradient, BetaGradient = l.BiasGradient },
                new SyncOp(),
            };
        });
        Add(Guard(x), x, true, new[] { y }, node =>
        {
            var k = new BatchNormBackwardKernel { Method = step.Method + "BackwardData", Title = $"{Name(step.Layer)}: d loss / d input of one image (training mode)", X = T(x), OutputGradient = Grad(y), InputGradient = Grad(x), Accumulate = node.Accumulate };
            Kernel(k);
            string f = l.StateField!;
            return new TrainingOp[] { Call(k.Method, Guard(x), Arg(x), GradientArg(y), GradientArg(x), Field(f + ".Mean"), Field(f + ".Scale"), Field(f + ".MeanGradient"), Field(f + ".Projection")) };
        });
    }
}
