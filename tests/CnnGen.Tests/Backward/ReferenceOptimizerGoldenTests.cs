using System.Collections.Generic;
using System.Linq;
using CnnGen.Tests.Runtime;
using CnnGen.Training;
using TrainingParameter = CnnGen.Training.Parameter;

namespace CnnGen.Tests.Backward;

/// <summary>
/// The 3-step optimizer goldens of tests/fixtures/training through the reference backward: LeNet-5, the MLP and the
/// batch-norm ResNet-8 from PyTorch's initialisation, three steps (batches 0, 1, 2) of SGD, Adam and AdamW with
/// golden.json's settings; the loss before each step, every weight after the third and the running statistics match
/// PyTorch within 1e-4 (abs + rel). This checks the optimizers and the reference backward together, and is the oracle the
/// generated trainer is held to.
/// </summary>
[TestFixture]
public sealed class ReferenceOptimizerGoldenTests
{
    private const double Tolerance = 1e-4;

    public static IEnumerable<TestCaseData> Cases() =>
        from g in TrainingGolden.All
        from o in new[] { "sgd", "adam", "adamw" }
        select new TestCaseData(g, o).SetArgDisplayNames(g.Name, o);

    [TestCaseSource(nameof(Cases))]
    public void ThreeStepsMatchPyTorch(TrainingGolden golden, string optimizer)
    {
        ReferenceNetwork<float> network = golden.CreateNetwork<float>();

        // The optimizer updates the reference network's own arrays: a Parameter wraps them, it does not copy.
        List<TrainingParameter> parameters = network.Parameters
            .Select(p => new TrainingParameter(p.Name, p.Shape, p.Value, p.Grad))
            .ToList();

        TensorSet after = CnnGen.Tests.Training.OptimizerGolden.Run(golden.Name, optimizer, parameters, (batch, input, labels) =>
        {
            (float loss, float[] _) = network.ComputeGradients(input, labels, labels.Length);
            return loss;
        }, Tolerance);

        foreach ((string name, float[] value) in network.Buffers)
        {
            ConformanceCase.AssertClose(after.Get(name).Data, value, Tolerance, Tolerance, $"{golden.Name} {optimizer} {name} after 3 training forwards");
        }
    }
}
