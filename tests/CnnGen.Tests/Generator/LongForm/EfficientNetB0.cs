// LONG FORM, not compiled (CnnGen.Tests.csproj copies it to the output as text): EfficientNetB0 with every layer written out,
// as written before the block attributes existed. BlockTests runs the generator on this file and on
// tests/CnnGen.Tests.Zoo.Networks/EfficientNetB0.cs (declared with MBConv) and requires the same generated code, so the
// blocks expand to exactly these layers, names and wiring.
using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's EfficientNet-B0 (../shared/zoo/efficientnet_b0): 5,288,548 parameters, 3x224x224 -> 1000 logits,
/// 16 MBConv blocks in 7 stages (features.1 to features.7). Layer names are the state_dict module paths; each SiLU is
/// <c>Activation = SiLU</c> on the layer before it. Squeeze-and-excitation (<c>block.N</c>): global average pool,
/// 1x1 convolution + SiLU (fc1), 1x1 convolution + Sigmoid (fc2), then <c>Multiply</c> scales the depthwise output by
/// the C x 1 x 1 result, named after the SE module. Stochastic depth is the identity in eval, so a residual block is
/// <c>Add</c>, named after the block (<c>features.2.1</c>).
/// </summary>
[Network, Input(3, 224, 224)]
[Conv2D(32, 3, Stride = 2, Padding = 1, Bias = false, Name = "features.0.0"), BatchNorm2D(Name = "features.0.1", Activation = Activation.SiLU)]
// features.1.0: MBConv1 3x3, 32 -> 32 -> 16 channels, 112x112, SE 32 -> 8 -> 32
[Conv2D(32, 3, Padding = 1, Groups = 32, Bias = false, Name = "features.1.0.block.0.0"), BatchNorm2D(Name = "features.1.0.block.0.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.1.0.block.1.avgpool"), Conv2D(8, 1, Name = "features.1.0.block.1.fc1", Activation = Activation.SiLU), Conv2D(32, 1, Name = "features.1.0.block.1.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.1.0.block.0.1", "features.1.0.block.1.fc2", Name = "features.1.0.block.1")]
[Conv2D(16, 1, Bias = false, Name = "features.1.0.block.2.0"), BatchNorm2D(Name = "features.1.0.block.2.1")]
// features.2.0: MBConv6 3x3, 16 -> 96 -> 24 channels, 56x56, stride 2, SE 96 -> 4 -> 96
[Conv2D(96, 1, Bias = false, Name = "features.2.0.block.0.0"), BatchNorm2D(Name = "features.2.0.block.0.1", Activation = Activation.SiLU)]
[Conv2D(96, 3, Stride = 2, Padding = 1, Groups = 96, Bias = false, Name = "features.2.0.block.1.0"), BatchNorm2D(Name = "features.2.0.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.2.0.block.2.avgpool"), Conv2D(4, 1, Name = "features.2.0.block.2.fc1", Activation = Activation.SiLU), Conv2D(96, 1, Name = "features.2.0.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.2.0.block.1.1", "features.2.0.block.2.fc2", Name = "features.2.0.block.2")]
[Conv2D(24, 1, Bias = false, Name = "features.2.0.block.3.0"), BatchNorm2D(Name = "features.2.0.block.3.1")]
// features.2.1: MBConv6 3x3, 24 -> 144 -> 24 channels, 56x56, SE 144 -> 6 -> 144, residual
[Conv2D(144, 1, Bias = false, Name = "features.2.1.block.0.0"), BatchNorm2D(Name = "features.2.1.block.0.1", Activation = Activation.SiLU)]
[Conv2D(144, 3, Padding = 1, Groups = 144, Bias = false, Name = "features.2.1.block.1.0"), BatchNorm2D(Name = "features.2.1.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.2.1.block.2.avgpool"), Conv2D(6, 1, Name = "features.2.1.block.2.fc1", Activation = Activation.SiLU), Conv2D(144, 1, Name = "features.2.1.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.2.1.block.1.1", "features.2.1.block.2.fc2", Name = "features.2.1.block.2")]
[Conv2D(24, 1, Bias = false, Name = "features.2.1.block.3.0"), BatchNorm2D(Name = "features.2.1.block.3.1")]
[Add("features.2.1.block.3.1", "features.2.0.block.3.1", Name = "features.2.1")]
// features.3.0: MBConv6 5x5, 24 -> 144 -> 40 channels, 28x28, stride 2, SE 144 -> 6 -> 144
[Conv2D(144, 1, Bias = false, Name = "features.3.0.block.0.0"), BatchNorm2D(Name = "features.3.0.block.0.1", Activation = Activation.SiLU)]
[Conv2D(144, 5, Stride = 2, Padding = 2, Groups = 144, Bias = false, Name = "features.3.0.block.1.0"), BatchNorm2D(Name = "features.3.0.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.3.0.block.2.avgpool"), Conv2D(6, 1, Name = "features.3.0.block.2.fc1", Activation = Activation.SiLU), Conv2D(144, 1, Name = "features.3.0.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.3.0.block.1.1", "features.3.0.block.2.fc2", Name = "features.3.0.block.2")]
[Conv2D(40, 1, Bias = false, Name = "features.3.0.block.3.0"), BatchNorm2D(Name = "features.3.0.block.3.1")]
// features.3.1: MBConv6 5x5, 40 -> 240 -> 40 channels, 28x28, SE 240 -> 10 -> 240, residual
[Conv2D(240, 1, Bias = false, Name = "features.3.1.block.0.0"), BatchNorm2D(Name = "features.3.1.block.0.1", Activation = Activation.SiLU)]
[Conv2D(240, 5, Padding = 2, Groups = 240, Bias = false, Name = "features.3.1.block.1.0"), BatchNorm2D(Name = "features.3.1.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.3.1.block.2.avgpool"), Conv2D(10, 1, Name = "features.3.1.block.2.fc1", Activation = Activation.SiLU), Conv2D(240, 1, Name = "features.3.1.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.3.1.block.1.1", "features.3.1.block.2.fc2", Name = "features.3.1.block.2")]
[Conv2D(40, 1, Bias = false, Name = "features.3.1.block.3.0"), BatchNorm2D(Name = "features.3.1.block.3.1")]
[Add("features.3.1.block.3.1", "features.3.0.block.3.1", Name = "features.3.1")]
// features.4.0: MBConv6 3x3, 40 -> 240 -> 80 channels, 14x14, stride 2, SE 240 -> 10 -> 240
[Conv2D(240, 1, Bias = false, Name = "features.4.0.block.0.0"), BatchNorm2D(Name = "features.4.0.block.0.1", Activation = Activation.SiLU)]
[Conv2D(240, 3, Stride = 2, Padding = 1, Groups = 240, Bias = false, Name = "features.4.0.block.1.0"), BatchNorm2D(Name = "features.4.0.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.4.0.block.2.avgpool"), Conv2D(10, 1, Name = "features.4.0.block.2.fc1", Activation = Activation.SiLU), Conv2D(240, 1, Name = "features.4.0.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.4.0.block.1.1", "features.4.0.block.2.fc2", Name = "features.4.0.block.2")]
[Conv2D(80, 1, Bias = false, Name = "features.4.0.block.3.0"), BatchNorm2D(Name = "features.4.0.block.3.1")]
// features.4.1: MBConv6 3x3, 80 -> 480 -> 80 channels, 14x14, SE 480 -> 20 -> 480, residual
[Conv2D(480, 1, Bias = false, Name = "features.4.1.block.0.0"), BatchNorm2D(Name = "features.4.1.block.0.1", Activation = Activation.SiLU)]
[Conv2D(480, 3, Padding = 1, Groups = 480, Bias = false, Name = "features.4.1.block.1.0"), BatchNorm2D(Name = "features.4.1.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.4.1.block.2.avgpool"), Conv2D(20, 1, Name = "features.4.1.block.2.fc1", Activation = Activation.SiLU), Conv2D(480, 1, Name = "features.4.1.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.4.1.block.1.1", "features.4.1.block.2.fc2", Name = "features.4.1.block.2")]
[Conv2D(80, 1, Bias = false, Name = "features.4.1.block.3.0"), BatchNorm2D(Name = "features.4.1.block.3.1")]
[Add("features.4.1.block.3.1", "features.4.0.block.3.1", Name = "features.4.1")]
// features.4.2: MBConv6 3x3, 80 -> 480 -> 80 channels, 14x14, SE 480 -> 20 -> 480, residual
[Conv2D(480, 1, Bias = false, Name = "features.4.2.block.0.0"), BatchNorm2D(Name = "features.4.2.block.0.1", Activation = Activation.SiLU)]
[Conv2D(480, 3, Padding = 1, Groups = 480, Bias = false, Name = "features.4.2.block.1.0"), BatchNorm2D(Name = "features.4.2.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.4.2.block.2.avgpool"), Conv2D(20, 1, Name = "features.4.2.block.2.fc1", Activation = Activation.SiLU), Conv2D(480, 1, Name = "features.4.2.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.4.2.block.1.1", "features.4.2.block.2.fc2", Name = "features.4.2.block.2")]
[Conv2D(80, 1, Bias = false, Name = "features.4.2.block.3.0"), BatchNorm2D(Name = "features.4.2.block.3.1")]
[Add("features.4.2.block.3.1", "features.4.1", Name = "features.4.2")]
// features.5.0: MBConv6 5x5, 80 -> 480 -> 112 channels, 14x14, SE 480 -> 20 -> 480
[Conv2D(480, 1, Bias = false, Name = "features.5.0.block.0.0"), BatchNorm2D(Name = "features.5.0.block.0.1", Activation = Activation.SiLU)]
[Conv2D(480, 5, Padding = 2, Groups = 480, Bias = false, Name = "features.5.0.block.1.0"), BatchNorm2D(Name = "features.5.0.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.5.0.block.2.avgpool"), Conv2D(20, 1, Name = "features.5.0.block.2.fc1", Activation = Activation.SiLU), Conv2D(480, 1, Name = "features.5.0.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.5.0.block.1.1", "features.5.0.block.2.fc2", Name = "features.5.0.block.2")]
[Conv2D(112, 1, Bias = false, Name = "features.5.0.block.3.0"), BatchNorm2D(Name = "features.5.0.block.3.1")]
// features.5.1: MBConv6 5x5, 112 -> 672 -> 112 channels, 14x14, SE 672 -> 28 -> 672, residual
[Conv2D(672, 1, Bias = false, Name = "features.5.1.block.0.0"), BatchNorm2D(Name = "features.5.1.block.0.1", Activation = Activation.SiLU)]
[Conv2D(672, 5, Padding = 2, Groups = 672, Bias = false, Name = "features.5.1.block.1.0"), BatchNorm2D(Name = "features.5.1.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.5.1.block.2.avgpool"), Conv2D(28, 1, Name = "features.5.1.block.2.fc1", Activation = Activation.SiLU), Conv2D(672, 1, Name = "features.5.1.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.5.1.block.1.1", "features.5.1.block.2.fc2", Name = "features.5.1.block.2")]
[Conv2D(112, 1, Bias = false, Name = "features.5.1.block.3.0"), BatchNorm2D(Name = "features.5.1.block.3.1")]
[Add("features.5.1.block.3.1", "features.5.0.block.3.1", Name = "features.5.1")]
// features.5.2: MBConv6 5x5, 112 -> 672 -> 112 channels, 14x14, SE 672 -> 28 -> 672, residual
[Conv2D(672, 1, Bias = false, Name = "features.5.2.block.0.0"), BatchNorm2D(Name = "features.5.2.block.0.1", Activation = Activation.SiLU)]
[Conv2D(672, 5, Padding = 2, Groups = 672, Bias = false, Name = "features.5.2.block.1.0"), BatchNorm2D(Name = "features.5.2.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.5.2.block.2.avgpool"), Conv2D(28, 1, Name = "features.5.2.block.2.fc1", Activation = Activation.SiLU), Conv2D(672, 1, Name = "features.5.2.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.5.2.block.1.1", "features.5.2.block.2.fc2", Name = "features.5.2.block.2")]
[Conv2D(112, 1, Bias = false, Name = "features.5.2.block.3.0"), BatchNorm2D(Name = "features.5.2.block.3.1")]
[Add("features.5.2.block.3.1", "features.5.1", Name = "features.5.2")]
// features.6.0: MBConv6 5x5, 112 -> 672 -> 192 channels, 7x7, stride 2, SE 672 -> 28 -> 672
[Conv2D(672, 1, Bias = false, Name = "features.6.0.block.0.0"), BatchNorm2D(Name = "features.6.0.block.0.1", Activation = Activation.SiLU)]
[Conv2D(672, 5, Stride = 2, Padding = 2, Groups = 672, Bias = false, Name = "features.6.0.block.1.0"), BatchNorm2D(Name = "features.6.0.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.6.0.block.2.avgpool"), Conv2D(28, 1, Name = "features.6.0.block.2.fc1", Activation = Activation.SiLU), Conv2D(672, 1, Name = "features.6.0.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.6.0.block.1.1", "features.6.0.block.2.fc2", Name = "features.6.0.block.2")]
[Conv2D(192, 1, Bias = false, Name = "features.6.0.block.3.0"), BatchNorm2D(Name = "features.6.0.block.3.1")]
// features.6.1: MBConv6 5x5, 192 -> 1152 -> 192 channels, 7x7, SE 1152 -> 48 -> 1152, residual
[Conv2D(1152, 1, Bias = false, Name = "features.6.1.block.0.0"), BatchNorm2D(Name = "features.6.1.block.0.1", Activation = Activation.SiLU)]
[Conv2D(1152, 5, Padding = 2, Groups = 1152, Bias = false, Name = "features.6.1.block.1.0"), BatchNorm2D(Name = "features.6.1.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.6.1.block.2.avgpool"), Conv2D(48, 1, Name = "features.6.1.block.2.fc1", Activation = Activation.SiLU), Conv2D(1152, 1, Name = "features.6.1.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.6.1.block.1.1", "features.6.1.block.2.fc2", Name = "features.6.1.block.2")]
[Conv2D(192, 1, Bias = false, Name = "features.6.1.block.3.0"), BatchNorm2D(Name = "features.6.1.block.3.1")]
[Add("features.6.1.block.3.1", "features.6.0.block.3.1", Name = "features.6.1")]
// features.6.2: MBConv6 5x5, 192 -> 1152 -> 192 channels, 7x7, SE 1152 -> 48 -> 1152, residual
[Conv2D(1152, 1, Bias = false, Name = "features.6.2.block.0.0"), BatchNorm2D(Name = "features.6.2.block.0.1", Activation = Activation.SiLU)]
[Conv2D(1152, 5, Padding = 2, Groups = 1152, Bias = false, Name = "features.6.2.block.1.0"), BatchNorm2D(Name = "features.6.2.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.6.2.block.2.avgpool"), Conv2D(48, 1, Name = "features.6.2.block.2.fc1", Activation = Activation.SiLU), Conv2D(1152, 1, Name = "features.6.2.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.6.2.block.1.1", "features.6.2.block.2.fc2", Name = "features.6.2.block.2")]
[Conv2D(192, 1, Bias = false, Name = "features.6.2.block.3.0"), BatchNorm2D(Name = "features.6.2.block.3.1")]
[Add("features.6.2.block.3.1", "features.6.1", Name = "features.6.2")]
// features.6.3: MBConv6 5x5, 192 -> 1152 -> 192 channels, 7x7, SE 1152 -> 48 -> 1152, residual
[Conv2D(1152, 1, Bias = false, Name = "features.6.3.block.0.0"), BatchNorm2D(Name = "features.6.3.block.0.1", Activation = Activation.SiLU)]
[Conv2D(1152, 5, Padding = 2, Groups = 1152, Bias = false, Name = "features.6.3.block.1.0"), BatchNorm2D(Name = "features.6.3.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.6.3.block.2.avgpool"), Conv2D(48, 1, Name = "features.6.3.block.2.fc1", Activation = Activation.SiLU), Conv2D(1152, 1, Name = "features.6.3.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.6.3.block.1.1", "features.6.3.block.2.fc2", Name = "features.6.3.block.2")]
[Conv2D(192, 1, Bias = false, Name = "features.6.3.block.3.0"), BatchNorm2D(Name = "features.6.3.block.3.1")]
[Add("features.6.3.block.3.1", "features.6.2", Name = "features.6.3")]
// features.7.0: MBConv6 3x3, 192 -> 1152 -> 320 channels, 7x7, SE 1152 -> 48 -> 1152
[Conv2D(1152, 1, Bias = false, Name = "features.7.0.block.0.0"), BatchNorm2D(Name = "features.7.0.block.0.1", Activation = Activation.SiLU)]
[Conv2D(1152, 3, Padding = 1, Groups = 1152, Bias = false, Name = "features.7.0.block.1.0"), BatchNorm2D(Name = "features.7.0.block.1.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "features.7.0.block.2.avgpool"), Conv2D(48, 1, Name = "features.7.0.block.2.fc1", Activation = Activation.SiLU), Conv2D(1152, 1, Name = "features.7.0.block.2.fc2", Activation = Activation.Sigmoid)]
[Multiply("features.7.0.block.1.1", "features.7.0.block.2.fc2", Name = "features.7.0.block.2")]
[Conv2D(320, 1, Bias = false, Name = "features.7.0.block.3.0"), BatchNorm2D(Name = "features.7.0.block.3.1")]
// features.8: 320 -> 1280 channels, 7x7
[Conv2D(1280, 1, Bias = false, Name = "features.8.0"), BatchNorm2D(Name = "features.8.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "avgpool"), Flatten, Dropout(0.2f, Name = "classifier.0"), Dense(1000, Name = "classifier.1")]
public partial class EfficientNetB0;
