using System.Linq;

namespace CnnGen.Tests.Generator;

/// <summary>The generated source of a few networks, committed under Snapshots/ so every change to the emitter is reviewed as a diff.</summary>
public sealed class SnapshotTests
{
    public const string LeNet5 = """
        using CnnGen;
        namespace Samples;
        [Network, Input(1, 28, 28)]
        [Conv2D(6, 5, Padding = 2, Activation = Activation.Relu), MaxPool2D(2)]
        [Conv2D(16, 5, Activation = Activation.Relu), MaxPool2D(2), Flatten]
        [Dense(120, Activation = Activation.Relu), Dense(84, Activation = Activation.Relu), Dense(10)]
        public partial class LeNet5;
        """;

    public const string ResidualBlock = """
        using CnnGen;
        namespace Samples;
        /// A ResNet basic block with batch norm, a strided projection and global pooling.
        [Network, Input(3, 16, 16)]
        [Conv2D(8, 3, Padding = 1, Bias = false, Name = "stem"), BatchNorm2D(Name = "bn", Activation = Activation.Relu)]
        [Conv2D(16, 3, Stride = 2, Padding = 1, Name = "c1", Activation = Activation.Relu), Conv2D(16, 3, Padding = 1, Name = "c2")]
        [Conv2D(16, 1, Stride = 2, Name = "proj", From = "bn"), Add("c2", "proj", Activation = Activation.Relu, Name = "sum")]
        [GlobalAvgPool2D, Flatten, Dense(10, Name = "fc"), Softmax]
        public partial class ResidualBlock;
        """;

    public const string MobileNetBlock = """
        using CnnGen;
        namespace Samples;
        [Network, Input(32, 14, 14)]
        [Conv2D(32, 3, Padding = 1, Groups = 32, Name = "dw"), ReLU6]
        [Conv2D(64, 1, Name = "pw"), ReLU6(Name = "pw_relu")]
        [Conv2D(16, 3, Padding = 1, Name = "branch", From = "dw"), Concat("pw_relu", "branch")]
        [AvgPool2D(3, Stride = 2, Padding = 1, CountIncludePad = false, CeilMode = true)]
        public partial class MobileNetBlock;
        """;

    public const string DepthwiseSeparable = """
        using CnnGen;
        namespace Samples;
        /// MobileNet's depthwise + pointwise pair: the planner runs the depthwise layer row by row inside the 1x1 one.
        [Network, Input(16, 12, 12)]
        [Conv2D(16, 3, Padding = 1, Groups = 16, Name = "dw", Activation = Activation.Relu6)]
        [Conv2D(32, 1, Name = "pw", Activation = Activation.Relu6)]
        public partial class DepthwiseSeparable;
        """;

    public const string SqueezeExcitation = """
        using CnnGen;
        namespace Samples;
        /// Squeeze-and-excitation (a per-channel Multiply) and an adaptive pool whose 10 -> 3 windows overlap.
        [Network, Input(16, 10, 10)]
        [Conv2D(32, 1, Name = "expand", Activation = Activation.SiLU)]
        [GlobalAvgPool2D(Name = "squeeze"), Conv2D(8, 1, Name = "fc1", Activation = Activation.SiLU), Conv2D(32, 1, Name = "fc2", Activation = Activation.Sigmoid)]
        [Multiply("expand", "fc2", Name = "scale")]
        [AdaptiveAvgPool2D(3, Name = "pool"), Flatten, Dense(10, Name = "fc")]
        public partial class SqueezeExcitation;
        """;

    [TestCase("LeNet5", LeNet5)]
    [TestCase("SqueezeExcitation", SqueezeExcitation)]
    [TestCase("DepthwiseSeparable", DepthwiseSeparable)]
    [TestCase("ResidualBlock", ResidualBlock)]
    [TestCase("MobileNetBlock", MobileNetBlock)]
    public void Generated_source_matches_the_snapshot(string name, string source)
    {
        var result = GeneratorHarness.Run(source);
        Assert.That(result.GeneratorDiagnostics, Is.Empty);
        Assert.That(result.Output.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error), Is.Empty);
        foreach (var (hint, text) in result.Files.OrderBy(f => f.Key, System.StringComparer.Ordinal))
        {
            if (hint.Contains("Kernels128") || (hint.Contains("Kernels512") && name != "LeNet5"))
            {
                continue; // One width per network keeps the snapshots reviewable; LeNet5 also pins Vector512.
            }

            Snapshot.Verify(name + "/" + hint.Replace(".g.cs", string.Empty), text);
        }
    }

    [Test]
    public void Output_is_deterministic()
    {
        var a = GeneratorHarness.Run(ResidualBlock).Files;
        var b = GeneratorHarness.Run(ResidualBlock).Files;
        Assert.That(a, Is.EqualTo(b));
    }

    public const string AlexNet = """
        using CnnGen;
        namespace Samples;
        /// AlexNet (torchvision layout): 11x11 stride-4 stem, 5x5 and 3x3 convolutions, overlapping pools, 4096-wide dense layers.
        [Network, Input(3, 224, 224)]
        [Conv2D(64, 11, Stride = 4, Padding = 2, Activation = Activation.Relu), MaxPool2D(3, Stride = 2)]
        [Conv2D(192, 5, Padding = 2, Activation = Activation.Relu), MaxPool2D(3, Stride = 2)]
        [Conv2D(384, 3, Padding = 1, Activation = Activation.Relu), Conv2D(256, 3, Padding = 1, Activation = Activation.Relu)]
        [Conv2D(256, 3, Padding = 1, Activation = Activation.Relu), MaxPool2D(3, Stride = 2), Flatten]
        [Dense(4096, Activation = Activation.Relu), Dropout(0.5f), Dense(4096, Activation = Activation.Relu), Dense(1000, Activation = Activation.Softmax)]
        public partial class AlexNet;
        """;

    [TestCase("LeNet5", LeNet5)]
    [TestCase("AlexNet", AlexNet)]
    public void Every_emitted_method_stays_far_below_the_JIT_limits(string name, string source)
    {
        // The JIT stops optimizing methods over ~60 KB of IL; the emitter keeps one method per layer or tile.
        var result = GeneratorHarness.Run(source);
        Assert.That(result.GeneratorDiagnostics, Is.Empty, name);
        int largest = MethodBodies.Of(result.Output).Max(b => b.Bytes);
        Assert.That(largest, Is.LessThan(16 * 1024), "largest method body in bytes of IL");
    }
}
