using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's ResNet-18 (../shared/zoo/resnet18): 11,689,512 parameters, 3x224x224 -> 1000 logits, 8 basic blocks
/// in four stages. Layer names are the state_dict module paths: each <c>BasicBlock</c> stage expands to torchvision's
/// <c>layerN.i.conv1</c>, <c>bn1</c> + ReLU, <c>conv2</c>, <c>bn2</c>, the <c>downsample.0/.1</c> projection where the
/// stride or channels change (layer2 to layer4) and the residual sums + ReLU named after their block (<c>layer1.0</c>);
/// the long form is tests/CnnGen.Tests/Generator/LongForm/ResNet18.cs. Batch norm folds into the convolutions at load.
/// </summary>
[Network, Input(3, 224, 224)]
[Conv2D(64, 7, Stride = 2, Padding = 3, Bias = false, Name = "conv1"), BatchNorm2D(Name = "bn1", Activation = Activation.Relu)]
[MaxPool2D(3, Stride = 2, Padding = 1, Name = "maxpool")]
[BasicBlock(64, Repeat = 2, Name = "layer1")]                // 64 channels, 56x56
[BasicBlock(128, Repeat = 2, Stride = 2, Name = "layer2")]   // 128 channels, 28x28
[BasicBlock(256, Repeat = 2, Stride = 2, Name = "layer3")]   // 256 channels, 14x14
[BasicBlock(512, Repeat = 2, Stride = 2, Name = "layer4")]   // 512 channels, 7x7
[GlobalAvgPool2D(Name = "avgpool"), Flatten, Dense(1000, Name = "fc")]
public partial class ResNet18;
