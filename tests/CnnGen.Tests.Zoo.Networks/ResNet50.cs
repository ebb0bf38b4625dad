using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's ResNet-50 (../shared/zoo/resnet50, v1.5: the stride is on the 3x3 convolution): 25,557,032
/// parameters, 3x224x224 -> 1000 logits, 16 bottleneck blocks in four stages. Layer names are the state_dict module
/// paths: each <c>Bottleneck</c> stage expands to torchvision's <c>layerN.i.conv1</c> ... <c>bn3</c>, the first block's
/// <c>downsample.0/.1</c> projection and the residual sums (named after their block, <c>layer1.0</c>, + ReLU), so 126
/// layers in all; the long form is tests/CnnGen.Tests/Generator/LongForm/ResNet50.cs. torchvision's shared <c>relu</c>
/// is <c>Activation = Relu</c> on bn1. Batch norm folds into the convolutions at load.
/// </summary>
[Network, Input(3, 224, 224)]
[Conv2D(64, 7, Stride = 2, Padding = 3, Bias = false, Name = "conv1"), BatchNorm2D(Name = "bn1", Activation = Activation.Relu)]
[MaxPool2D(3, Stride = 2, Padding = 1, Name = "maxpool")]
[Bottleneck(64, Repeat = 3, Name = "layer1")]                // 64 -> 256 channels, 56x56
[Bottleneck(128, Repeat = 4, Stride = 2, Name = "layer2")]   // 512 channels, 28x28
[Bottleneck(256, Repeat = 6, Stride = 2, Name = "layer3")]   // 1024 channels, 14x14
[Bottleneck(512, Repeat = 3, Stride = 2, Name = "layer4")]   // 2048 channels, 7x7
[GlobalAvgPool2D(Name = "avgpool"), Flatten, Dense(1000, Name = "fc")]
public partial class ResNet50;
