using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Generator;
using CnnGen.Tests.Runtime;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// Every PyTorch backward conformance case (tests/fixtures/conformance/grad) of a layer the product supports, declared as a
/// one-layer trainable network (as <see cref="GeneratedConformanceTests"/> declares the forward cases), generated,
/// compiled and run through the generated trainer on every vector width: PyTorch's <c>grad_output</c> goes into
/// <see cref="NetworkTrainer.Backward(ReadOnlySpan{float}, Span{float})"/>; the input and parameter gradients must match
/// within 1e-4 (abs + rel); the batch-norm cases run in training mode, with <c>output_train</c> and the updated running
/// statistics.
/// </summary>
[TestFixture]
public sealed class GeneratedBackwardConformanceTests
{
    private const double Tolerance = 1e-4;

    /// <summary>Ops the product has no layer for (no forward either): the only cases not run.</summary>
    private static readonly string[] Unsupported = { "ELU", "Hardswish", "Hardsigmoid", "GELU", "LogSoftmax" };

    private static readonly Lazy<Assembly> Compiled = new(() =>
    {
        var sb = new StringBuilder("using CnnGen;\nnamespace TrainingConformance;\n");
        foreach (GradCase c in GradCase.Cases.Where(IsSupported))
        {
            sb.Append(GeneratedConformanceTests.Declare(c.Forward).Replace("[Network,", "[Network(Trainable = true),", StringComparison.Ordinal)).Append('\n');
        }

        return GeneratorHarness.CompileAndLoad(sb.ToString());
    });

    public static IEnumerable<TestCaseData> Cases() =>
        from c in GradCase.Cases.Where(IsSupported)
        from w in GeneratorHarness.Widths
        select new TestCaseData(c, w).SetName($"{c.Name} ({w})");

    [Test]
    public void Every_case_but_the_unsupported_ops_runs()
    {
        Assert.That(GradCase.Cases, Has.Count.EqualTo(93));
        string[] skipped = GradCase.Cases.Where(c => !IsSupported(c)).Select(c => c.Forward.Op).Distinct().ToArray();
        Assert.That(skipped, Is.EquivalentTo(Unsupported));
        Assert.That(GradCase.Cases.Count(IsSupported), Is.EqualTo(87));
        Assert.That(GradCase.Cases.Where(IsSupported).Count(c => c.Training), Is.EqualTo(4), "the batch-norm cases run in training mode");
    }

    [TestCaseSource(nameof(Cases))]
    public void Gradients_match_PyTorch(GradCase c, VectorWidth width)
    {
        ConformanceCase forward = c.Forward;
        TensorSet t = c.Tensors;
        int batch = forward.Batch;
        using NetworkTrainer trainer = Load(c, width);
        float[] input = GeneratedConformanceTests.Input(forward);
        var output = new float[forward.Output.Length];
        trainer.Forward(input, batch, output, training: true);
        ConformanceCase.AssertClose(c.Training ? t.Get("output_train").Data : forward.Output.Data, output, Tolerance, Tolerance, $"{c.Name} {width} output");
        if (c.Training)
        {
            TensorSet saved = trainer.ToTensorSet();
            foreach (Tensor running in t.Where(x => x.Name.StartsWith("running.", StringComparison.Ordinal)))
            {
                ConformanceCase.AssertClose(running.Data, saved.Get(running.Name["running.".Length..]).Data, Tolerance, Tolerance, $"{c.Name} {width} updated {running.Name}");
            }
        }

        var inputGradients = new float[input.Length];
        trainer.Backward(t.Get("grad_output").Data, inputGradients);
        if (GeneratedConformanceTests.IsMerge(forward))
        {
            // The two operands arrive stacked on channels (see GeneratedConformanceTests): split the gradient the same way.
            int a = forward.Input.Length / batch, b = forward.Input2.Length / batch;
            float[] ga = Enumerable.Range(0, batch).SelectMany(i => inputGradients.Skip(i * (a + b)).Take(a)).ToArray();
            float[] gb = Enumerable.Range(0, batch).SelectMany(i => inputGradients.Skip((i * (a + b)) + a).Take(b)).ToArray();
            ConformanceCase.AssertClose(t.Get("grad_input").Data, ga, Tolerance, Tolerance, $"{c.Name} {width} grad_input");
            ConformanceCase.AssertClose(t.Get("grad_input2").Data, gb, Tolerance, Tolerance, $"{c.Name} {width} grad_input2");
            return;
        }

        ConformanceCase.AssertClose(t.Get("grad_input").Data, inputGradients, Tolerance, Tolerance, $"{c.Name} {width} grad_input");
        Assert.That(trainer.Parameters.Select(p => p.Name), Is.EquivalentTo(c.ParamGrads.Keys), "trained tensors");
        foreach (Parameter p in trainer.Parameters)
        {
            ConformanceCase.AssertClose(t.Get("grad." + p.Name).Data, p.ToTensor(p.Name, p.Gradient).Data, Tolerance, Tolerance, $"{c.Name} {width} grad.{p.Name}");
        }
    }

    private static bool IsSupported(GradCase c) => !Unsupported.Contains(c.Forward.Op);

    /// <summary>The case's trainer, from its parameters (and, for batch norm, the running statistics before the forward).</summary>
    private static NetworkTrainer Load(GradCase c, VectorWidth width)
    {
        TensorSet weights = GeneratedConformanceTests.IsMerge(c.Forward)
            ? GeneratedConformanceTests.Weights(c.Forward)
            : new TensorSet(c.Tensors.Where(x => x.Name.StartsWith("layer", StringComparison.Ordinal)));
        Type type = Compiled.Value.GetType("TrainingConformance." + GeneratedConformanceTests.ClassName(c.Forward) + "+Trainer", throwOnError: true)!;
        MethodInfo load = type.GetMethod("Load", new[] { typeof(TensorSet), typeof(TrainerOptions) })!;
        try
        {
            return (NetworkTrainer)load.Invoke(null, new object?[] { weights, new TrainerOptions { VectorWidth = width } })!;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    }
}
