using System;

namespace CnnGen;

/// <summary>
/// Base of the blocks: one attribute standing for a stage of <see cref="Repeat"/> torchvision blocks. The generator
/// expands it into the ordinary layers the block is made of, named by torchvision's rule so that the names are the
/// <c>state_dict</c> module paths (<c>layer1.0.conv1</c>), and wired as torchvision wires them (residual sums, a
/// projection where the shape changes). <see cref="LayerAttribute.From"/> is the first block's input; each later block
/// reads the one before. The summary lists the expanded layers.
/// </summary>
public abstract class BlockAttribute : LayerAttribute
{
    /// <summary>Blocks in the stage (default 1).</summary>
    public int Repeat { get; set; } = 1;

    /// <summary>The first block's stride (default 1); later blocks have stride 1, as in torchvision.</summary>
    public int Stride { get; set; } = 1;
}

/// <summary>
/// ResNet's basic block stage (torchvision <c>_make_layer(BasicBlock, planes, Repeat, Stride)</c>): block <c>i</c> is
/// <c>{Name}.{i}.conv1</c> (3x3, the stride) + <c>bn1</c> + ReLU, <c>{Name}.{i}.conv2</c> (3x3) + <c>bn2</c>, then the sum
/// with the block's input, + ReLU, named <c>{Name}.{i}</c>. The first block projects its input
/// (<c>{Name}.0.downsample.0</c>: 1x1 convolution with the stride, <c>.1</c>: batch norm) when the stride is not 1 or the
/// channels change. Convolutions have no bias. Default name: <c>layer1</c>, <c>layer2</c>, ...
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BasicBlockAttribute : BlockAttribute
{
    /// <summary>A stage of basic blocks with <paramref name="planes"/> output channels.</summary>
    public BasicBlockAttribute(int planes) => Planes = planes;

    /// <summary>Channels of every convolution and of the output.</summary>
    public int Planes { get; }
}

/// <summary>
/// ResNet's bottleneck stage (torchvision <c>_make_layer(Bottleneck, planes, Repeat, Stride)</c>, ResNet v1.5: the stride
/// is on the 3x3 convolution): block <c>i</c> is <c>{Name}.{i}.conv1</c> (1x1, planes) + <c>bn1</c> + ReLU,
/// <c>conv2</c> (3x3, planes, the stride) + <c>bn2</c> + ReLU, <c>conv3</c> (1x1, 4 x planes) + <c>bn3</c>, then the sum with
/// the block's input, + ReLU, named <c>{Name}.{i}</c>. The first block projects its input (<c>{Name}.0.downsample.0/.1</c>)
/// when the stride is not 1 or the channels change. Convolutions have no bias. Default name: <c>layer1</c>, <c>layer2</c>, ...
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BottleneckAttribute : BlockAttribute
{
    /// <summary>A stage of bottlenecks with <paramref name="planes"/> inner channels and 4 x <paramref name="planes"/> output channels.</summary>
    public BottleneckAttribute(int planes) => Planes = planes;

    /// <summary>Channels of the inner convolutions; the output has 4 x as many (torchvision's expansion).</summary>
    public int Planes { get; }
}

/// <summary>
/// MobileNetV2's inverted residual stage (torchvision <c>InvertedResidual</c>): each block expands its input to
/// <c>input channels x expandRatio</c> with a 1x1 convolution (<c>{block}.conv.0.0</c>) + batch norm (<c>.conv.0.1</c>) + ReLU6
/// (left out when the ratio is 1), then a 3x3 depthwise convolution with the stride + batch norm + ReLU6, then a 1x1
/// projection to <see cref="Filters"/> channels and a batch norm (<c>{block}.conv.2</c>, <c>.conv.3</c>; one index lower
/// without the expansion). A block with stride 1 and equal input and output channels adds its input, and that sum is named
/// <c>{block}</c>. MobileNetV2 numbers its blocks flat (<c>features.2</c>, <c>features.3</c>, ...): the first block is
/// <see cref="LayerAttribute.Name"/>, and each later block increments the number Name ends with. Convolutions have no bias.
/// Default names: <c>block1</c>, <c>block2</c>, ..., counted over every InvertedResidual block of the network.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class InvertedResidualAttribute : BlockAttribute
{
    /// <summary>A stage of inverted residual blocks: expansion <paramref name="expandRatio"/>, <paramref name="filters"/> output channels.</summary>
    public InvertedResidualAttribute(int expandRatio, int filters)
    {
        ExpandRatio = expandRatio;
        Filters = filters;
    }

    /// <summary>Hidden channels per input channel (torchvision's <c>expand_ratio</c>, MobileNetV2's t).</summary>
    public int ExpandRatio { get; }

    /// <summary>Output channels.</summary>
    public int Filters { get; }
}

/// <summary>
/// EfficientNet's MBConv stage (torchvision <c>MBConv</c> in <c>features[n]</c>): block <c>{Name}.{i}</c> expands its input
/// to <c>make_divisible(input channels x expandRatio, 8)</c> channels with a 1x1 convolution + batch norm + SiLU
/// (<c>{Name}.{i}.block.0.0/.1</c>; left out when the ratio is 1), a depthwise <see cref="KernelSize"/> convolution with the
/// stride + batch norm + SiLU, squeeze-and-excitation (<c>.avgpool</c>: global average pool; <c>.fc1</c>: 1x1 convolution to
/// <c>max(1, input channels / 4)</c> + SiLU; <c>.fc2</c>: 1x1 convolution back + Sigmoid; then the scale, a
/// <see cref="MultiplyAttribute"/> named after the module), and a 1x1 projection to <see cref="Filters"/> channels +
/// batch norm. A block with stride 1 and equal input and output channels adds its input (stochastic depth is the identity
/// at inference), and that sum is named <c>{Name}.{i}</c>. Projection and expansion have no bias, the SE convolutions do.
/// Default name: <c>stage1</c>, <c>stage2</c>, ...
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MBConvAttribute : BlockAttribute
{
    /// <summary>A stage of MBConv blocks: expansion <paramref name="expandRatio"/>, <paramref name="filters"/> output channels.</summary>
    public MBConvAttribute(int expandRatio, int filters)
    {
        ExpandRatio = expandRatio;
        Filters = filters;
    }

    /// <summary>Hidden channels per input channel (torchvision's <c>expand_ratio</c>).</summary>
    public int ExpandRatio { get; }

    /// <summary>Output channels.</summary>
    public int Filters { get; }

    /// <summary>The depthwise convolution's kernel size (default 3; EfficientNet-B0 uses 3 and 5); padding (k - 1) / 2.</summary>
    public int KernelSize { get; set; } = 3;
}
