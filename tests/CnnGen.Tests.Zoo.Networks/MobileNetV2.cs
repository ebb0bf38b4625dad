using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's MobileNetV2 (../shared/zoo/mobilenet_v2): 3,504,872 parameters, 3x224x224 -> 1000 logits,
/// 17 inverted residual blocks (features.1 to features.17) in seven stages, torchvision's table (t, c, n, s) one
/// attribute per row. Layer names are the state_dict module paths: each <c>InvertedResidual</c> stage expands to
/// <c>features.N.conv.0.0</c> ... with ReLU6 on the batch norms, numbering its blocks on from its Name, and adds the
/// residual (named <c>features.N</c>) where stride and channels allow; the long form is
/// tests/CnnGen.Tests/Generator/LongForm/MobileNetV2.cs. Batch norm folds into the convolutions at load.
/// </summary>
/// <remarks>The global average pool and flatten are functional in torchvision (no module), so they keep default names.</remarks>
[Network, Input(3, 224, 224)]
[Conv2D(32, 3, Stride = 2, Padding = 1, Bias = false, Name = "features.0.0"), BatchNorm2D(Name = "features.0.1", Activation = Activation.Relu6)]
[InvertedResidual(1, 16, Name = "features.1")]                         // 112x112
[InvertedResidual(6, 24, Repeat = 2, Stride = 2, Name = "features.2")]   // features.2, 3: 56x56
[InvertedResidual(6, 32, Repeat = 3, Stride = 2, Name = "features.4")]   // features.4 to 6: 28x28
[InvertedResidual(6, 64, Repeat = 4, Stride = 2, Name = "features.7")]   // features.7 to 10: 14x14
[InvertedResidual(6, 96, Repeat = 3, Name = "features.11")]              // features.11 to 13: 14x14
[InvertedResidual(6, 160, Repeat = 3, Stride = 2, Name = "features.14")] // features.14 to 16: 7x7
[InvertedResidual(6, 320, Name = "features.17")]                       // 7x7
[Conv2D(1280, 1, Bias = false, Name = "features.18.0"), BatchNorm2D(Name = "features.18.1", Activation = Activation.Relu6)]
[GlobalAvgPool2D, Flatten, Dropout(0.2f, Name = "classifier.0"), Dense(1000, Name = "classifier.1")]
public partial class MobileNetV2;
