using Microsoft.CodeAnalysis;

namespace CnnGen.Tests.Generator;

/// <content>The diagnostics of Multiply, AdaptiveAvgPool2D and the block attributes: where they point and what they say.</content>
public sealed partial class DiagnosticsTests
{
    [Test]
    public void CNN0014_multiply_shapes_point_at_the_operand_that_does_not_fit()
    {
        var scale = Single("[Network, Input(8, 6, 6), GlobalAvgPool2D(Name = \"g\"), Conv2D(4, 1, Name = \"s\"), Multiply(\"input\", \"s\")] public partial class Net;", "CNN0014");
        Assert.That(Squiggled(scale), Is.EqualTo("\"s\""));
        Assert.That(Message(scale), Is.EqualTo("Multiply 'multiply1': 'input' is 8x6x6 but 's' is 4x1x1; a per-channel scale must have the map's 8 channels"));

        var first = Single("[Network, Input(8, 6, 6), GlobalAvgPool2D(Name = \"g\"), Conv2D(4, 1, Name = \"s\"), Multiply(\"s\", \"input\", Name = \"se\")] public partial class Net;", "CNN0014");
        Assert.That(Squiggled(first), Is.EqualTo("\"s\""), "the scale may come first");

        var maps = Single("[Network, Input(8, 6, 6), Conv2D(8, 3, Name = \"c\"), Multiply(\"input\", \"c\")] public partial class Net;", "CNN0014");
        Assert.That(Squiggled(maps), Is.EqualTo("\"c\""));
        Assert.That(Message(maps), Does.EndWith("'input' is 8x6x6 but 'c' is 8x4x4; Multiply needs equal shapes, or one operand a per-channel scale (C x 1 x 1, or a flat vector of C) to broadcast over the other's H x W"));

        var flat = Single("[Network, Input(8, 1, 1), Flatten(Name = \"f\"), Dense(8, Name = \"d\"), Multiply(\"d\", \"input\")] public partial class Net;", "CNN0014");
        Assert.That(Message(flat), Does.Contain("a per-channel scale multiplies a C x H x W map, not a flat vector"));
    }

    [Test]
    public void CNN0009_multiply_names_its_unknown_operand()
    {
        var d = Single("[Network, Input(8, 6, 6), Conv2D(8, 1, Name = \"c\"), Multiply(\"c\", \"nope\")] public partial class Net;", "CNN0009");
        Assert.That(Squiggled(d), Is.EqualTo("\"nope\""));
        Assert.That(Message(d), Does.StartWith("Multiply 'multiply1' reads 'nope', which is not declared before it"));
    }

    [Test]
    public void AdaptiveAvgPool2D_sizes_and_input()
    {
        var zero = Single("[Network, Input(2, 8, 8), AdaptiveAvgPool2D(0)] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(zero), Is.EqualTo("0"));
        Assert.That(Message(zero), Is.EqualTo("AdaptiveAvgPool2D 'avgpool1': the output height must be at least 1, but is 0"));

        var width = Single("[Network, Input(2, 8, 8), AdaptiveAvgPool2D(3, -1, Name = \"p\")] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(width), Is.EqualTo("-1"));

        var flat = Single("[Network, Input(2, 8, 8), Flatten, AdaptiveAvgPool2D(2)] public partial class Net;", "CNN0012");
        Assert.That(Message(flat), Does.StartWith("AdaptiveAvgPool2D 'avgpool1' needs a C x H x W input"));
    }

    [Test]
    public void Block_arguments_are_checked_on_the_block()
    {
        var repeat = Single("[Network, Input(64, 8, 8), Bottleneck(16, Repeat = 0)] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(repeat), Is.EqualTo("Repeat = 0"));
        Assert.That(Message(repeat), Is.EqualTo("Bottleneck 'layer1': Repeat must be at least 1, but is 0"));

        var many = Single("[Network, Input(64, 8, 8), BasicBlock(64, Repeat = 5000, Name = \"layer1\")] public partial class Net;", "CNN0019");
        Assert.That(Squiggled(many), Is.EqualTo("Repeat = 5000"));
        Assert.That(Message(many), Is.EqualTo("BasicBlock 'layer1': Repeat = 5000 is more than 256 blocks; split the stage or check the count"));

        var ratio = Single("[Network, Input(16, 8, 8), InvertedResidual(0, 16, Name = \"features.1\")] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(ratio), Is.EqualTo("0"));
        Assert.That(Message(ratio), Is.EqualTo("InvertedResidual 'features.1': ExpandRatio must be at least 1, but is 0"));

        var numbering = Single("[Network, Input(16, 8, 8), InvertedResidual(6, 16, Repeat = 2, Name = \"stage\")] public partial class Net;", "CNN0019");
        Assert.That(Squiggled(numbering), Is.EqualTo("Name = \"stage\""));
        Assert.That(Message(numbering), Does.Contain("ends without one; name the first block, e.g. Name = \"features.2\""));
    }

    [Test]
    public void Errors_in_a_blocks_layers_point_at_the_block_argument_that_sets_them()
    {
        var planes = Single("[Network, Input(64, 8, 8), Bottleneck(0, Name = \"layer1\")] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(planes), Is.EqualTo("0"));
        Assert.That(Message(planes), Is.EqualTo("Conv2D 'layer1.0.conv1': Filters must be at least 1, but is 0"));

        var stride = Single("[Network, Input(16, 8, 8), MBConv(6, 16, Stride = -2)] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(stride), Is.EqualTo("Stride = -2"));
        Assert.That(Message(stride), Does.StartWith("Conv2D 'stage1.0.block.1.0': the stride must be at least 1"));

        var kernel = Single("[Network, Input(16, 8, 8), MBConv(6, 16, KernelSize = 0)] public partial class Net;", "CNN0004");
        Assert.That(Squiggled(kernel), Is.EqualTo("KernelSize = 0"));

        var from = Single("[Network, Input(16, 8, 8), BasicBlock(16, From = \"nope\")] public partial class Net;", "CNN0009");
        Assert.That(Squiggled(from), Is.EqualTo("From = \"nope\""));
        Assert.That(Message(from), Does.StartWith("Conv2D 'layer1.0.conv1' reads 'nope'"));

        var duplicate = Single("[Network, Input(16, 8, 8), Conv2D(16, 1, Name = \"layer1.0.conv1\"), BasicBlock(16, Name = \"layer1\")] public partial class Net;", "CNN0010");
        Assert.That(Squiggled(duplicate), Is.EqualTo("Name = \"layer1\""));
        Assert.That(Message(duplicate), Is.EqualTo("Layer name 'layer1.0.conv1' is used twice; give every layer a unique Name"));

        var small = Single("[Network, Input(16, 1, 1), Flatten, Dense(16), BasicBlock(16)] public partial class Net;", "CNN0012");
        Assert.That(Squiggled(small), Is.EqualTo("BasicBlock(16)"));
    }

    [Test]
    public void CNN0014_an_element_wise_layer_on_a_flattened_map()
    {
        // Flatten is a view of a map stored pixel by pixel: Add and Multiply of it would not be in PyTorch's order.
        var add = Single("[Network, Input(4, 2, 2), Conv2D(4, 1, Name = \"c\"), Flatten(Name = \"f\"), Dense(16, Name = \"d\"), Add(\"f\", \"d\", Name = \"a\")] public partial class Net;", "CNN0014");
        Assert.That(Squiggled(add), Is.EqualTo("\"f\""));
        Assert.That(Message(add), Is.EqualTo("Add 'a': 'f' is a flattened 4x2x2 map; Add of a flattened map is not supported yet: apply it to the maps before [Flatten]"));
        var multiply = Single("[Network, Input(4, 2, 2), Conv2D(4, 1, Name = \"c\"), Flatten(Name = \"f\"), Dense(16, Name = \"d\"), ReLU(Name = \"r\"), Multiply(\"r\", \"f\", Name = \"m\")] public partial class Net;", "CNN0014");
        Assert.That(Squiggled(multiply), Is.EqualTo("\"f\""));
        Assert.That(Message(multiply), Does.StartWith("Multiply 'm': 'f' is a flattened 4x2x2 map;"));

        // A flattened 1x1 map is a vector in PyTorch's order: allowed.
        var ok = GeneratorHarness.Run("using CnnGen;\n[Network, Input(4, 2, 2), GlobalAvgPool2D(Name = \"g\"), Flatten(Name = \"f\"), Dense(4, Name = \"d\"), Add(\"f\", \"d\")] public partial class Net;");
        Assert.That(ok.GeneratorDiagnostics, Is.Empty);
    }
}
