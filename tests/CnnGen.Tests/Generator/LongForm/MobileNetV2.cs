// LONG FORM, not compiled (CnnGen.Tests.csproj copies it to the output as text): MobileNetV2 with every layer written out,
// as written before the block attributes existed. BlockTests runs the generator on this file and on
// tests/CnnGen.Tests.Zoo.Networks/MobileNetV2.cs (declared with InvertedResidual) and requires the same generated code, so the
// blocks expand to exactly these layers, names and wiring.
using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's MobileNetV2 (../shared/zoo/mobilenet_v2): 3,504,872 parameters, 3x224x224 -> 1000 logits,
/// 17 inverted residual blocks (features.1 to features.17). Layer names are the state_dict module paths; each
/// ReLU6 (features.N.conv.0.2, ...) is <c>Activation = Relu6</c> on the batch norm before it, and each residual sum
/// is named after its block (<c>features.3</c>). Batch norm folds into the convolutions at load.
/// </summary>
/// <remarks>The global average pool and flatten are functional in torchvision (no module), so they keep default names.</remarks>
[Network, Input(3, 224, 224)]
[Conv2D(32, 3, Stride = 2, Padding = 1, Bias = false, Name = "features.0.0"), BatchNorm2D(Name = "features.0.1", Activation = Activation.Relu6)]
// features.1: 32 -> 32 -> 16 channels, 112x112
[Conv2D(32, 3, Padding = 1, Groups = 32, Bias = false, Name = "features.1.conv.0.0"), BatchNorm2D(Name = "features.1.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(16, 1, Bias = false, Name = "features.1.conv.1"), BatchNorm2D(Name = "features.1.conv.2")]
// features.2: 16 -> 96 -> 24 channels, 56x56, stride 2
[Conv2D(96, 1, Bias = false, Name = "features.2.conv.0.0"), BatchNorm2D(Name = "features.2.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(96, 3, Stride = 2, Padding = 1, Groups = 96, Bias = false, Name = "features.2.conv.1.0"), BatchNorm2D(Name = "features.2.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(24, 1, Bias = false, Name = "features.2.conv.2"), BatchNorm2D(Name = "features.2.conv.3")]
// features.3: 24 -> 144 -> 24 channels, 56x56, residual
[Conv2D(144, 1, Bias = false, Name = "features.3.conv.0.0"), BatchNorm2D(Name = "features.3.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(144, 3, Padding = 1, Groups = 144, Bias = false, Name = "features.3.conv.1.0"), BatchNorm2D(Name = "features.3.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(24, 1, Bias = false, Name = "features.3.conv.2"), BatchNorm2D(Name = "features.3.conv.3")]
[Add("features.3.conv.3", "features.2.conv.3", Name = "features.3")]
// features.4: 24 -> 144 -> 32 channels, 28x28, stride 2
[Conv2D(144, 1, Bias = false, Name = "features.4.conv.0.0"), BatchNorm2D(Name = "features.4.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(144, 3, Stride = 2, Padding = 1, Groups = 144, Bias = false, Name = "features.4.conv.1.0"), BatchNorm2D(Name = "features.4.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(32, 1, Bias = false, Name = "features.4.conv.2"), BatchNorm2D(Name = "features.4.conv.3")]
// features.5: 32 -> 192 -> 32 channels, 28x28, residual
[Conv2D(192, 1, Bias = false, Name = "features.5.conv.0.0"), BatchNorm2D(Name = "features.5.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(192, 3, Padding = 1, Groups = 192, Bias = false, Name = "features.5.conv.1.0"), BatchNorm2D(Name = "features.5.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(32, 1, Bias = false, Name = "features.5.conv.2"), BatchNorm2D(Name = "features.5.conv.3")]
[Add("features.5.conv.3", "features.4.conv.3", Name = "features.5")]
// features.6: 32 -> 192 -> 32 channels, 28x28, residual
[Conv2D(192, 1, Bias = false, Name = "features.6.conv.0.0"), BatchNorm2D(Name = "features.6.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(192, 3, Padding = 1, Groups = 192, Bias = false, Name = "features.6.conv.1.0"), BatchNorm2D(Name = "features.6.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(32, 1, Bias = false, Name = "features.6.conv.2"), BatchNorm2D(Name = "features.6.conv.3")]
[Add("features.6.conv.3", "features.5", Name = "features.6")]
// features.7: 32 -> 192 -> 64 channels, 14x14, stride 2
[Conv2D(192, 1, Bias = false, Name = "features.7.conv.0.0"), BatchNorm2D(Name = "features.7.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(192, 3, Stride = 2, Padding = 1, Groups = 192, Bias = false, Name = "features.7.conv.1.0"), BatchNorm2D(Name = "features.7.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(64, 1, Bias = false, Name = "features.7.conv.2"), BatchNorm2D(Name = "features.7.conv.3")]
// features.8: 64 -> 384 -> 64 channels, 14x14, residual
[Conv2D(384, 1, Bias = false, Name = "features.8.conv.0.0"), BatchNorm2D(Name = "features.8.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(384, 3, Padding = 1, Groups = 384, Bias = false, Name = "features.8.conv.1.0"), BatchNorm2D(Name = "features.8.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(64, 1, Bias = false, Name = "features.8.conv.2"), BatchNorm2D(Name = "features.8.conv.3")]
[Add("features.8.conv.3", "features.7.conv.3", Name = "features.8")]
// features.9: 64 -> 384 -> 64 channels, 14x14, residual
[Conv2D(384, 1, Bias = false, Name = "features.9.conv.0.0"), BatchNorm2D(Name = "features.9.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(384, 3, Padding = 1, Groups = 384, Bias = false, Name = "features.9.conv.1.0"), BatchNorm2D(Name = "features.9.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(64, 1, Bias = false, Name = "features.9.conv.2"), BatchNorm2D(Name = "features.9.conv.3")]
[Add("features.9.conv.3", "features.8", Name = "features.9")]
// features.10: 64 -> 384 -> 64 channels, 14x14, residual
[Conv2D(384, 1, Bias = false, Name = "features.10.conv.0.0"), BatchNorm2D(Name = "features.10.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(384, 3, Padding = 1, Groups = 384, Bias = false, Name = "features.10.conv.1.0"), BatchNorm2D(Name = "features.10.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(64, 1, Bias = false, Name = "features.10.conv.2"), BatchNorm2D(Name = "features.10.conv.3")]
[Add("features.10.conv.3", "features.9", Name = "features.10")]
// features.11: 64 -> 384 -> 96 channels, 14x14
[Conv2D(384, 1, Bias = false, Name = "features.11.conv.0.0"), BatchNorm2D(Name = "features.11.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(384, 3, Padding = 1, Groups = 384, Bias = false, Name = "features.11.conv.1.0"), BatchNorm2D(Name = "features.11.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(96, 1, Bias = false, Name = "features.11.conv.2"), BatchNorm2D(Name = "features.11.conv.3")]
// features.12: 96 -> 576 -> 96 channels, 14x14, residual
[Conv2D(576, 1, Bias = false, Name = "features.12.conv.0.0"), BatchNorm2D(Name = "features.12.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(576, 3, Padding = 1, Groups = 576, Bias = false, Name = "features.12.conv.1.0"), BatchNorm2D(Name = "features.12.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(96, 1, Bias = false, Name = "features.12.conv.2"), BatchNorm2D(Name = "features.12.conv.3")]
[Add("features.12.conv.3", "features.11.conv.3", Name = "features.12")]
// features.13: 96 -> 576 -> 96 channels, 14x14, residual
[Conv2D(576, 1, Bias = false, Name = "features.13.conv.0.0"), BatchNorm2D(Name = "features.13.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(576, 3, Padding = 1, Groups = 576, Bias = false, Name = "features.13.conv.1.0"), BatchNorm2D(Name = "features.13.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(96, 1, Bias = false, Name = "features.13.conv.2"), BatchNorm2D(Name = "features.13.conv.3")]
[Add("features.13.conv.3", "features.12", Name = "features.13")]
// features.14: 96 -> 576 -> 160 channels, 7x7, stride 2
[Conv2D(576, 1, Bias = false, Name = "features.14.conv.0.0"), BatchNorm2D(Name = "features.14.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(576, 3, Stride = 2, Padding = 1, Groups = 576, Bias = false, Name = "features.14.conv.1.0"), BatchNorm2D(Name = "features.14.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(160, 1, Bias = false, Name = "features.14.conv.2"), BatchNorm2D(Name = "features.14.conv.3")]
// features.15: 160 -> 960 -> 160 channels, 7x7, residual
[Conv2D(960, 1, Bias = false, Name = "features.15.conv.0.0"), BatchNorm2D(Name = "features.15.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(960, 3, Padding = 1, Groups = 960, Bias = false, Name = "features.15.conv.1.0"), BatchNorm2D(Name = "features.15.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(160, 1, Bias = false, Name = "features.15.conv.2"), BatchNorm2D(Name = "features.15.conv.3")]
[Add("features.15.conv.3", "features.14.conv.3", Name = "features.15")]
// features.16: 160 -> 960 -> 160 channels, 7x7, residual
[Conv2D(960, 1, Bias = false, Name = "features.16.conv.0.0"), BatchNorm2D(Name = "features.16.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(960, 3, Padding = 1, Groups = 960, Bias = false, Name = "features.16.conv.1.0"), BatchNorm2D(Name = "features.16.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(160, 1, Bias = false, Name = "features.16.conv.2"), BatchNorm2D(Name = "features.16.conv.3")]
[Add("features.16.conv.3", "features.15", Name = "features.16")]
// features.17: 160 -> 960 -> 320 channels, 7x7
[Conv2D(960, 1, Bias = false, Name = "features.17.conv.0.0"), BatchNorm2D(Name = "features.17.conv.0.1", Activation = Activation.Relu6)]
[Conv2D(960, 3, Padding = 1, Groups = 960, Bias = false, Name = "features.17.conv.1.0"), BatchNorm2D(Name = "features.17.conv.1.1", Activation = Activation.Relu6)]
[Conv2D(320, 1, Bias = false, Name = "features.17.conv.2"), BatchNorm2D(Name = "features.17.conv.3")]
// features.18: 320 -> 1280 channels, 7x7
[Conv2D(1280, 1, Bias = false, Name = "features.18.0"), BatchNorm2D(Name = "features.18.1", Activation = Activation.Relu6)]
[GlobalAvgPool2D, Flatten, Dropout(0.2f, Name = "classifier.0"), Dense(1000, Name = "classifier.1")]
public partial class MobileNetV2;
