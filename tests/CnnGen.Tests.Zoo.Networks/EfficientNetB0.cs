using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's EfficientNet-B0 (../shared/zoo/efficientnet_b0): 5,288,548 parameters, 3x224x224 -> 1000 logits,
/// 16 MBConv blocks in 7 stages (features.1 to features.7), torchvision's table one attribute per stage. Layer names are
/// the state_dict module paths: each <c>MBConv</c> stage expands to <c>features.N.i.block.*</c> with SiLU on the batch
/// norms, squeeze-and-excitation (<c>block.k.avgpool</c>, <c>fc1</c> + SiLU, <c>fc2</c> + Sigmoid, and the
/// <c>Multiply</c> named after the module <c>block.k</c>) and the residual sum named after the block
/// (<c>features.2.1</c>; stochastic depth is the identity in eval); the long form is
/// tests/CnnGen.Tests/Generator/LongForm/EfficientNetB0.cs. Batch norm folds into the convolutions at load.
/// </summary>
[Network, Input(3, 224, 224)]
[Conv2D(32, 3, Stride = 2, Padding = 1, Bias = false, Name = "features.0.0"), BatchNorm2D(Name = "features.0.1", Activation = Activation.SiLU)]
[MBConv(1, 16, Name = "features.1")]                                      // 112x112
[MBConv(6, 24, Repeat = 2, Stride = 2, Name = "features.2")]               // 56x56
[MBConv(6, 40, KernelSize = 5, Repeat = 2, Stride = 2, Name = "features.3")] // 28x28
[MBConv(6, 80, Repeat = 3, Stride = 2, Name = "features.4")]               // 14x14
[MBConv(6, 112, KernelSize = 5, Repeat = 3, Name = "features.5")]          // 14x14
[MBConv(6, 192, KernelSize = 5, Repeat = 4, Stride = 2, Name = "features.6")] // 7x7
[MBConv(6, 320, Name = "features.7")]                                     // 7x7
[Conv2D(1280, 1, Bias = false, Name = "features.8.0"), BatchNorm2D(Name = "features.8.1", Activation = Activation.SiLU)]
[GlobalAvgPool2D(Name = "avgpool"), Flatten, Dropout(0.2f, Name = "classifier.0"), Dense(1000, Name = "classifier.1")]
public partial class EfficientNetB0;
