using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.Training;
using static CnnGen.Tests.Training.OptimizerTestSupport;

namespace CnnGen.Tests.Training;

/// <summary>Saving and restoring optimizer state: resuming is bit-exact, names and layouts are PyTorch's, bad files change nothing.</summary>
[TestFixture]
public sealed class OptimizerStateTests
{
    public static IEnumerable<TestCaseData> AllOptimizers() => OptimizerSequenceTests.Configurations();

    private static List<Parameter> Packed() =>
    [
        PaddedLayouts.RowPadded("conv1.weight", [6, 1, 5, 5], 16),
        PaddedLayouts.RowPadded("conv1.bias", [6], 16),
        PaddedLayouts.RowPadded("fc.weight", [10, 33], 8),
    ];

    private static void Init(IReadOnlyList<Parameter> parameters)
    {
        foreach (Parameter p in parameters)
        {
            Initialization.Uniform(p, -1, 1, seed: 42);
        }
    }

    private static void Steps(Optimizer opt, LearningRateScheduler scheduler, long from, long to)
    {
        for (long t = from; t <= to; t++)
        {
            foreach (Parameter p in opt.Parameters)
            {
                var dense = new float[p.ElementCount];
                new CounterRandom(9, p.Name).Substream((ulong)t).FillUniform(dense, -1, 1);
                p.FromPyTorch(dense, p.Gradient);
            }

            opt.Step();
            scheduler.Step();
        }
    }

    [TestCaseSource(nameof(AllOptimizers))]
    public void K_steps_save_restore_M_steps_equals_K_plus_M_steps_bit_for_bit(string kind, object options)
    {
        const int k = 4, m = 5;
        List<Parameter> straight = Packed();
        Init(straight);
        Optimizer a = OptimizerSequenceTests.Create(kind, options, straight);
        var sa = new LearningRateScheduler(a, new StepLR(3, 0.5));
        Steps(a, sa, 1, k + m);

        List<Parameter> first = Packed();
        Init(first);
        Optimizer b = OptimizerSequenceTests.Create(kind, options, first);
        var sb = new LearningRateScheduler(b, new StepLR(3, 0.5));
        Steps(b, sb, 1, k);
        var weights = new MemoryStream();
        TensorSet.SaveSafeTensors(weights, first.Select(p => p.ValueTensor()));
        var state = new MemoryStream();
        b.SaveState(state, new Dictionary<string, string> { ["scheduler.last_epoch"] = sb.LastEpoch.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        // A fresh trainer: new arrays, other hyper-parameters; everything comes from the files.
        List<Parameter> resumed = Packed();
        TensorSet savedWeights = TensorSet.LoadSafeTensors(weights.ToArray());
        foreach (Parameter p in resumed)
        {
            p.SetValue(savedWeights.Get(p.Name));
        }

        Optimizer c = kind switch
        {
            "sgd" => new Sgd(resumed, new SgdOptions { LearningRate = 1 }),
            "adam" => new Adam(resumed),
            _ => new AdamW(resumed),
        };
        TensorSet saved = TensorSet.LoadSafeTensors(state.ToArray());
        c.LoadState(saved);
        var sc = new LearningRateScheduler(c, new StepLR(3, 0.5)) { LastEpoch = long.Parse(saved.Metadata["scheduler.last_epoch"], System.Globalization.CultureInfo.InvariantCulture) };
        Assert.That(c.StepCount, Is.EqualTo(k));
        Assert.That(c.LearningRate, Is.EqualTo(b.LearningRate));
        Steps(c, sc, k + 1, k + m);

        for (int i = 0; i < straight.Count; i++)
        {
            AssertBitwiseEqual(resumed[i].Value, straight[i].Value, $"{kind} {straight[i].Name}");
        }

        OptimizerBuffer[] expected = a.Buffers.ToArray(), actual = c.Buffers.ToArray();
        Assert.That(actual.Select(x => (x.Parameter.Name, x.Name)), Is.EqualTo(expected.Select(x => (x.Parameter.Name, x.Name))));
        for (int i = 0; i < expected.Length; i++)
        {
            AssertBitwiseEqual(actual[i].Data, expected[i].Data, $"{kind} {expected[i].Parameter.Name} {expected[i].Name}");
        }

        Assert.That(c.StateMetadata(), Is.EquivalentTo(a.StateMetadata()), "hyper-parameters, step and lr restored");
    }

    [Test]
    public void State_uses_PyTorch_names_shapes_and_layouts()
    {
        List<Parameter> parameters = Packed();
        Init(parameters);
        var adam = new Adam(parameters, new AdamOptions { AmsGrad = true });
        Steps(adam, new LearningRateScheduler(adam, new StepLR(100)), 1, 3);
        var stream = new MemoryStream();
        adam.SaveState(stream);
        TensorSet state = TensorSet.LoadSafeTensors(stream.ToArray());

        string[] buffers = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
        Assert.That(state.Names, Is.EqualTo(parameters.SelectMany(p => new[] { $"state.{p.Name}.step" }.Concat(buffers.Select(b => $"state.{p.Name}.{b}")))));
        Assert.That(state.Get("state.conv1.weight.step").Shape.ToArray(), Is.Empty);
        Assert.That(state.Get("state.conv1.weight.step").Data.ToArray(), Is.EqualTo(new[] { 3f }));
        Assert.That(state.Get("state.conv1.weight.exp_avg").Shape.ToArray(), Is.EqualTo(new[] { 6, 1, 5, 5 }));
        foreach (Parameter p in parameters)
        {
            float[] packed = adam.Buffers.Single(b => b.Parameter == p && b.Name == "exp_avg").Data.ToArray();
            var dense = new float[p.ElementCount];
            p.ToPyTorch(packed, dense);
            Assert.That(state.Get($"state.{p.Name}.exp_avg").Data.ToArray(), Is.EqualTo(dense), "PyTorch layout, not the packed one");
        }

        Assert.That(state.Metadata["optimizer"], Is.EqualTo("Adam"));
        Assert.That(state.Metadata["amsgrad"], Is.EqualTo("true"));
        Assert.That(state.Metadata["beta2"], Is.EqualTo("0.999"));
        Assert.That(state.Metadata["step"], Is.EqualTo("3"));
        Assert.That(new Sgd(Packed(), new SgdOptions { LearningRate = 0.1 }).BufferNames, Is.Empty, "SGD without momentum keeps no buffer");
    }

    private static (Optimizer Opt, List<Parameter> Parameters, TensorSet State) Saved()
    {
        List<Parameter> parameters = Packed();
        Init(parameters);
        var sgd = new Sgd(parameters, new SgdOptions { LearningRate = 0.1, Momentum = 0.9 });
        Steps(sgd, new LearningRateScheduler(sgd, new StepLR(100)), 1, 2);
        var stream = new MemoryStream();
        sgd.SaveState(stream);
        return (sgd, parameters, TensorSet.LoadSafeTensors(stream.ToArray()));
    }

    /// <summary>A copy of <paramref name="t"/> with element <paramref name="index"/> set to <paramref name="value"/> (tensors are immutable).</summary>
    private static Tensor Changed(Tensor t, int index, float value)
    {
        float[] data = t.Data.ToArray();
        data[index] = value;
        return new Tensor(t.Name, t.Shape.ToArray(), data);
    }

    private static TensorSet Edit(TensorSet state, Func<Tensor, Tensor?> tensor, Action<Dictionary<string, string>>? metadata = null)
    {
        var meta = state.Metadata.ToDictionary(p => p.Key, p => p.Value);
        metadata?.Invoke(meta);
        return new TensorSet(state.Select(t => tensor(new Tensor(t.Name, t.Shape.ToArray(), t.Data.ToArray()))).Where(t => t is not null)!, meta);
    }

    public static IEnumerable<TestCaseData> BadStates()
    {
        yield return new TestCaseData("Adam", "was saved by Adam; this optimizer is SGD").SetArgDisplayNames("another optimizer");
        yield return new TestCaseData("missing", "is missing").SetArgDisplayNames("missing buffer");
        yield return new TestCaseData("shape", "has shape [10, 33, 1]").SetArgDisplayNames("wrong shape");
        yield return new TestCaseData("nan", "NaN at element 7").SetArgDisplayNames("NaN buffer");
        yield return new TestCaseData("step", "equal to the state's step 2").SetArgDisplayNames("step tensor mismatch");
        yield return new TestCaseData("extra", "'state.fc.weight.exp_avg' is not part").SetArgDisplayNames("unexpected buffer");
        yield return new TestCaseData("stranger", "'state.fc2.weight.step' is not part").SetArgDisplayNames("unknown parameter");
        yield return new TestCaseData("nometa", "no 'format' entry").SetArgDisplayNames("no metadata");
        yield return new TestCaseData("momentum", "'momentum' is 'fast'").SetArgDisplayNames("malformed hyper-parameter");
        yield return new TestCaseData("nesterov", "Nesterov momentum requires").SetArgDisplayNames("invalid hyper-parameters");
        yield return new TestCaseData("maximize", "maximize=true").SetArgDisplayNames("maximize");
    }

    [TestCaseSource(nameof(BadStates))]
    public void A_bad_state_is_rejected_with_a_clear_error_and_changes_nothing(string problem, string message)
    {
        (_, _, TensorSet good) = Saved();
        TensorSet bad = problem switch
        {
            "Adam" => Edit(good, t => t, m => m["optimizer"] = "Adam"),
            "missing" => Edit(good, t => t.Name == "state.fc.weight.momentum_buffer" ? null : t),
            "shape" => Edit(good, t => t.Name == "state.fc.weight.momentum_buffer" ? new Tensor(t.Name, [10, 33, 1], t.Data.ToArray()) : t),
            "nan" => Edit(good, t => t.Name == "state.fc.weight.momentum_buffer" ? Changed(t, 7, float.NaN) : t),
            "step" => Edit(good, t => t.Name == "state.conv1.bias.step" ? new Tensor(t.Name, [], [5f]) : t),
            "extra" => new TensorSet(good.Append(new Tensor("state.fc.weight.exp_avg", [10, 33], new float[330])), good.Metadata),
            "stranger" => new TensorSet(good.Append(new Tensor("state.fc2.weight.step", [], [2f])), good.Metadata),
            "nometa" => new TensorSet(good.ToList()),
            "momentum" => Edit(good, t => t, m => m["momentum"] = "fast"),
            "nesterov" => Edit(good, t => t, m => { m["nesterov"] = "true"; m["dampening"] = "0.5"; }),
            _ => Edit(good, t => t, m => m["maximize"] = "true"),
        };

        // Another optimizer with its own progress must come out of the failed load untouched.
        List<Parameter> parameters = Packed();
        Init(parameters);
        var target = new Sgd(parameters, new SgdOptions { LearningRate = 0.3, Momentum = 0.5 });
        Steps(target, new LearningRateScheduler(target, new StepLR(100)), 1, 3);
        float[][] buffers = Snapshot(target.Buffers.Select(b => b.Data.ToArray()));
        float[][] values = Snapshot(parameters.Select(p => p.Value.ToArray()));
        Dictionary<string, string> metadata = target.StateMetadata();

        var e = Assert.Throws<WeightsException>(() => target.LoadState(bad))!;
        Assert.That(e.Message, Does.Contain(message));
        float[][] after = target.Buffers.Select(b => b.Data.ToArray()).ToArray();
        for (int i = 0; i < buffers.Length; i++)
        {
            AssertBitwiseEqual(after[i], buffers[i], $"buffer {i}");
        }

        for (int i = 0; i < values.Length; i++)
        {
            AssertBitwiseEqual(parameters[i].Value, values[i], $"value {i}");
        }

        Assert.That(target.StateMetadata(), Is.EquivalentTo(metadata));
    }

    [Test]
    public void Negative_second_moments_are_rejected()
    {
        List<Parameter> parameters = Packed();
        var adam = new Adam(parameters);
        var stream = new MemoryStream();
        adam.SaveState(stream);
        TensorSet state = TensorSet.LoadSafeTensors(stream.ToArray());
        TensorSet bad = Edit(state, t => t.Name == "state.fc.weight.exp_avg_sq" ? Changed(t, 3, -1) : t);
        Assert.That(() => new Adam(Packed()).LoadState(bad), Throws.TypeOf<WeightsException>().With.Message.Contains("negative"));
    }

    [Test]
    public void Invalid_Adam_hyper_parameters_in_a_state_are_rejected_as_a_bad_state()
    {
        // beta1 = 1 reads as a number in [0, 1] but Adam's own check refuses it: the ArgumentException becomes a WeightsException
        var adam = new Adam(Packed());
        var stream = new MemoryStream();
        adam.SaveState(stream);
        TensorSet bad = Edit(TensorSet.LoadSafeTensors(stream.ToArray()), t => t, m => m["beta1"] = "1");
        var target = new AdamW(Packed(), new AdamWOptions { Beta1 = 0.5 });
        var e = Assert.Throws<WeightsException>(() => target.LoadState(Edit(bad, t => t, m => m["optimizer"] = "AdamW")))!;
        Assert.That(e.Message, Does.Contain("hyper-parameters are invalid").And.Contain("beta1"));
        Assert.That(e.InnerException, Is.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(target.Options.Beta1, Is.EqualTo(0.5), "nothing applied");
    }

    [Test]
    public void Loading_restores_hyper_parameters_and_reshapes_the_buffers()
    {
        List<Parameter> source = Packed();
        var ams = new AdamW(source, new AdamWOptions { AmsGrad = true, Beta1 = 0.8, LearningRate = 0.02 });
        var stream = new MemoryStream();
        ams.SaveState(stream);

        var plain = new AdamW(Packed());
        Assert.That(plain.BufferNames, Is.EqualTo(new[] { "exp_avg", "exp_avg_sq" }));
        plain.LoadState(TensorSet.LoadSafeTensors(stream.ToArray()));
        Assert.That(plain.Options, Is.EqualTo(ams.Options));
        Assert.That(plain.BufferNames, Is.EqualTo(new[] { "exp_avg", "exp_avg_sq", "max_exp_avg_sq" }));
        Assert.That((plain.LearningRate, plain.InitialLearningRate), Is.EqualTo((0.02, 0.02)));
    }

    [Test]
    public void Save_state_refuses_extra_metadata_that_clashes()
    {
        var sgd = new Sgd(Packed(), new SgdOptions { LearningRate = 0.1 });
        Assert.Throws<ArgumentException>(() => sgd.SaveState(new MemoryStream(), new Dictionary<string, string> { ["lr"] = "1" }));
    }

    [Test]
    public void State_round_trips_through_a_file()
    {
        (Optimizer opt, _, _) = Saved();
        string path = Path.Combine(Path.GetTempPath(), $"cnngen-optimizer-{Guid.NewGuid():N}.safetensors");
        try
        {
            opt.SaveState(path);
            var copy = new Sgd(Packed(), new SgdOptions { LearningRate = 0.1, Momentum = 0.9 });
            copy.LoadState(path);
            Assert.That(copy.StepCount, Is.EqualTo(2));
            OptimizerBuffer[] a = opt.Buffers.ToArray(), b = copy.Buffers.ToArray();
            for (int i = 0; i < a.Length; i++)
            {
                AssertBitwiseEqual(b[i].Data, a[i].Data, a[i].Parameter.Name);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
