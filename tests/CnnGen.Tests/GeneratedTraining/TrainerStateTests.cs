using System;
using System.IO;
using System.Linq;
using CnnGen.Tests.Backward;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.GeneratedTraining;

/// <summary>
/// Saving, loading and handing over: PyTorch names, shapes and order (running statistics and an I64
/// <c>num_batches_tracked</c> included), the inference class loads the file and predicts what the trainer computes in
/// evaluation mode, <c>Load</c> is strict and round-trips bit for bit, and a run resumed from a checkpoint equals an
/// uninterrupted one bit for bit.
/// </summary>
[TestFixture]
public sealed class TrainerStateTests
{
    private static (float[] Input, int[] Labels) Golden(string network, int batch)
    {
        (float[] input, int[] labels, _) = GoldenTrainers.Golden(network).Batch(batch);
        return (input, labels);
    }

    [Test]
    public void Saved_weights_have_PyTorch_names_and_load_into_the_network_which_predicts_as_the_trainer()
    {
        TrainingGolden golden = GoldenTrainers.Golden("cifar_resnet8_bn");
        using var trainer = CifarResNet8Bn.Trainer.Load(golden.Init, new TrainerOptions { Threads = 2 });
        var adam = new Adam(trainer.Parameters, new AdamOptions());
        for (int b = 0; b < 3; b++)
        {
            (float[] x, int[] y) = Golden("cifar_resnet8_bn", b);
            trainer.Step(x, y, y.Length, adam);
        }

        var stream = new MemoryStream();
        trainer.Save(stream);
        TensorSet saved = TensorSet.LoadSafeTensors(stream.ToArray());
        string[] expected = golden.Init.Names.SelectMany(n => n.EndsWith(".running_var", StringComparison.Ordinal) ? new[] { n, n[..^"running_var".Length] + "num_batches_tracked" } : new[] { n }).ToArray();
        Assert.That(saved.Names, Is.EqualTo(expected), "a state_dict: PyTorch's names in PyTorch's order");
        Tensor counter = saved.Get("bn1.num_batches_tracked");
        Assert.That((counter.DType, counter.ShapeText, counter.Data[0]), Is.EqualTo((TensorDType.I64, "[]", 3f)), "an I64 scalar: three training passes");
        foreach (Tensor t in golden.Init)
        {
            Assert.That(saved.Get(t.Name).Shape.ToArray(), Is.EqualTo(t.Shape.ToArray()), t.Name);
        }

        (float[] input, _) = Golden("cifar_resnet8_bn", 0);
        int n = input.Length / trainer.InputSize;
        var evaluation = new float[n * trainer.OutputSize];
        trainer.Forward(input, n, evaluation, training: false);
        foreach (CifarResNet8Bn network in new[] { CifarResNet8Bn.Load(stream.ToArray()), trainer.ToNetwork() })
        {
            var predicted = new float[evaluation.Length];
            network.PredictBatch(input, predicted, n);
            Runtime.ConformanceCase.AssertClose(evaluation, predicted, 1e-5, 1e-4, "the network (batch norm folded) vs the trainer in evaluation mode");
        }
    }

    [Test]
    public void Load_round_trips_bit_for_bit_and_is_strict()
    {
        using var trainer = LeNet5.Trainer.Create(seed: 42);
        (float[] x, int[] y) = Golden("lenet5", 0);
        trainer.Step(x, y, y.Length, new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.1 }));
        TensorSet saved = trainer.ToTensorSet();
        using var loaded = LeNet5.Trainer.Load(saved);
        Assert.That(TrainingNetworks.Bits(loaded)[..^1], Is.EqualTo(TrainingNetworks.Bits(trainer)[..^1]), "weights");
        foreach (var pair in trainer.Parameters.Zip(loaded.Parameters))
        {
            Assert.That(pair.Second.Value.ToArray(), Is.EqualTo(pair.First.Value.ToArray()), pair.First.Name + " packed");
        }

        var extra = new TensorSet(saved.Append(new Tensor("fc4.weight", new[] { 1 }, new[] { 1f })));
        Assert.That(() => LeNet5.Trainer.Load(extra), Throws.TypeOf<WeightsException>().With.Message.Contains("fc4.weight"));
        var missing = new TensorSet(saved.Where(t => t.Name != "conv2.bias"));
        Assert.That(() => LeNet5.Trainer.Load(missing), Throws.TypeOf<WeightsException>().With.Message.Contains("conv2.bias"));
        var wrong = new TensorSet(saved.Select(t => t.Name == "fc1.weight" ? new Tensor(t.Name, new[] { 120, 255 }, new float[120 * 255]) : t));
        Assert.That(() => LeNet5.Trainer.Load(wrong), Throws.TypeOf<WeightsException>().With.Message.Contains("fc1.weight"));
        var nan = new TensorSet(saved.Select(t => t.Name == "conv1.bias" ? new Tensor(t.Name, t.Shape, Enumerable.Repeat(float.NaN, t.Length).ToArray()) : t));
        Assert.That(() => LeNet5.Trainer.Load(nan), Throws.TypeOf<WeightsException>().With.Message.Contains("conv1.bias"));
    }

    [Test]
    public void Create_draws_PyTorch_default_distributions_from_the_seed()
    {
        using var a = CifarResNet8Bn.Trainer.Create(seed: 7);
        using var b = CifarResNet8Bn.Trainer.Create(seed: 7, new TrainerOptions { VectorWidth = VectorWidth.V128 });
        using var c = CifarResNet8Bn.Trainer.Create(seed: 8);
        TensorSet ta = a.ToTensorSet(), tb = b.ToTensorSet(), tc = c.ToTensorSet();
        Assert.That(ta.Select(t => t.Data.ToArray()), Is.EqualTo(tb.Select(t => t.Data.ToArray())), "the same weights at every width");
        Assert.That(ta.Get("conv1.weight").Data.ToArray(), Is.Not.EqualTo(tc.Get("conv1.weight").Data.ToArray()), "another seed, other weights");
        double bound = 1 / Math.Sqrt(3 * 3 * 3);
        Assert.That(ta.Get("conv1.weight").Data.ToArray(), Is.All.InRange(-bound, bound), "kaiming-uniform, a = sqrt(5)");
        Assert.That(ta.Get("bn1.weight").Data.ToArray(), Is.All.EqualTo(1f));
        Assert.That(ta.Get("bn1.bias").Data.ToArray(), Is.All.EqualTo(0f));
        Assert.That(ta.Get("bn1.running_mean").Data.ToArray(), Is.All.EqualTo(0f));
        Assert.That(ta.Get("bn1.running_var").Data.ToArray(), Is.All.EqualTo(1f));
        Assert.That(a.Seed, Is.EqualTo(7UL));
    }

    [TestCase(1)]
    [TestCase(2)]
    public void A_resumed_run_equals_an_uninterrupted_one_bit_for_bit(int threads)
    {
        var options = new TrainerOptions { Threads = threads };
        float[] input = TrainingNetworks.Random(24 * 108, 1);
        int[] labels = Enumerable.Range(0, 24).Select(i => i % 7).ToArray();
        void Steps(NetworkTrainer trainer, Optimizer optimizer, int from, int to)
        {
            for (int s = from; s < to; s++)
            {
                int b = s % 3;
                trainer.Step(input.AsSpan(b * 8 * 108, 8 * 108), labels.AsSpan(b * 8, 8), 8, optimizer);
            }
        }

        using NetworkTrainer straight = TrainingNetworks.Create("DropoutNet", seed: 3, options);
        var adam = new AdamW(straight.Parameters, new AdamWOptions { LearningRate = 0.01 });
        Steps(straight, adam, 0, 6);

        using NetworkTrainer first = TrainingNetworks.Create("DropoutNet", seed: 3, options);
        var adam1 = new AdamW(first.Parameters, new AdamWOptions { LearningRate = 0.01 });
        Steps(first, adam1, 0, 3);
        var checkpoint = new MemoryStream();
        first.SaveCheckpoint(checkpoint, adam1);

        using NetworkTrainer resumed = TrainingNetworks.Create("DropoutNet", seed: 99, options);
        var adam2 = new AdamW(resumed.Parameters, new AdamWOptions { LearningRate = 0.5 });
        resumed.LoadCheckpoint(TensorSet.LoadSafeTensors(checkpoint.ToArray()), adam2);
        Assert.That(resumed.StepCount, Is.EqualTo(3));
        Assert.That(resumed.Seed, Is.EqualTo(3UL), "the dropout seed comes back");
        Steps(resumed, adam2, 3, 6);
        Assert.That(TrainingNetworks.Bits(resumed, adam2), Is.EqualTo(TrainingNetworks.Bits(straight, adam)));
    }

    [Test]
    public void A_checkpoint_of_another_network_or_optimizer_changes_nothing()
    {
        using NetworkTrainer trainer = TrainingNetworks.Create("DropoutNet", seed: 3);
        var sgd = new Sgd(trainer.Parameters, new SgdOptions { LearningRate = 0.1, Momentum = 0.9 });
        trainer.Step(TrainingNetworks.Random(2 * 108, 1), new[] { 1, 2 }, 2, sgd);
        int[] before = TrainingNetworks.Bits(trainer, sgd);

        using var lenet = LeNet5.Trainer.Create(seed: 1);
        var lenetSgd = new Sgd(lenet.Parameters, new SgdOptions { LearningRate = 0.1 });
        var other = new MemoryStream();
        lenet.SaveCheckpoint(other, lenetSgd);
        Assert.That(() => trainer.LoadCheckpoint(TensorSet.LoadSafeTensors(other.ToArray()), sgd), Throws.TypeOf<WeightsException>());

        var own = new MemoryStream();
        trainer.SaveCheckpoint(own, sgd);
        var adam = new Adam(trainer.Parameters, new AdamOptions());
        Assert.That(() => trainer.LoadCheckpoint(TensorSet.LoadSafeTensors(own.ToArray()), adam), Throws.TypeOf<WeightsException>().With.Message.Contains("SGD"));
        Assert.That(TrainingNetworks.Bits(trainer, sgd), Is.EqualTo(before));
        Assert.That(() => trainer.SaveCheckpoint(new MemoryStream(), lenetSgd), Throws.ArgumentException);
    }

    [Test]
    public void Evaluate_is_the_mean_cross_entropy_and_accuracy_in_evaluation_mode()
    {
        TrainingGolden golden = GoldenTrainers.Golden("cifar_resnet8_bn");
        using var trainer = CifarResNet8Bn.Trainer.Load(golden.Init);
        (float[] input, int[] labels) = Golden("cifar_resnet8_bn", 1);
        int n = labels.Length;
        Evaluation e = trainer.Evaluate(input, labels, n);

        var reference = golden.CreateNetwork<double>();
        double[] logits = reference.Forward(ReferenceNetwork<double>.From(input), n, training: false);
        double loss = Reference<double>.CrossEntropy(logits, n, 10, labels, Span<double>.Empty);
        int correct = Enumerable.Range(0, n).Count(i => Array.IndexOf(logits, logits.Skip(i * 10).Take(10).Max(), i * 10) - (i * 10) == labels[i]);
        Assert.That(e.Loss, Is.EqualTo(loss).Within(1e-5 * (1 + loss)));
        Assert.That((e.Correct, e.Count), Is.EqualTo((correct, n)));
        Assert.That(trainer.StepCount, Is.Zero, "evaluation is no training pass");
        Assert.That(trainer.ToTensorSet().Get("bn1.running_mean").Data.ToArray(), Is.All.EqualTo(0f), "evaluation leaves the running statistics");
    }
}
