// LONG FORM, not compiled (CnnGen.Tests.csproj copies it to the output as text): ResNet18 with every layer written out,
// as written before the block attributes existed. BlockTests runs the generator on this file and on
// tests/CnnGen.Tests.Zoo.Networks/ResNet18.cs (declared with BasicBlock) and requires the same generated code, so the
// blocks expand to exactly these layers, names and wiring.
using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's ResNet-18 (../shared/zoo/resnet18): 11,689,512 parameters, 3x224x224 -> 1000 logits.
/// Layer names are the state_dict module paths. torchvision's one <c>relu</c> module per block runs after bn1 and
/// after the residual sum, so it is written as <c>Activation = Relu</c> on those layers; each residual sum is named
/// after its block (<c>layer1.0</c>), which is what the next block reads. Batch norm folds into the convolutions at load.
/// </summary>
[Network, Input(3, 224, 224)]
[Conv2D(64, 7, Stride = 2, Padding = 3, Bias = false, Name = "conv1"), BatchNorm2D(Name = "bn1", Activation = Activation.Relu)]
[MaxPool2D(3, Stride = 2, Padding = 1, Name = "maxpool")]
// layer1: two basic blocks, 64 channels, 56x56
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "layer1.0.conv1"), BatchNorm2D(Name = "layer1.0.bn1", Activation = Activation.Relu)]
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "layer1.0.conv2"), BatchNorm2D(Name = "layer1.0.bn2")]
[Add("layer1.0.bn2", "maxpool", Name = "layer1.0", Activation = Activation.Relu)]
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "layer1.1.conv1"), BatchNorm2D(Name = "layer1.1.bn1", Activation = Activation.Relu)]
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "layer1.1.conv2"), BatchNorm2D(Name = "layer1.1.bn2")]
[Add("layer1.1.bn2", "layer1.0", Name = "layer1.1", Activation = Activation.Relu)]
// layer2: 128 channels, 28x28; the first block downsamples (stride 2) and projects its input
[Conv2D(128, 3, Stride = 2, Padding = 1, Bias = false, Name = "layer2.0.conv1"), BatchNorm2D(Name = "layer2.0.bn1", Activation = Activation.Relu)]
[Conv2D(128, 3, Padding = 1, Bias = false, Name = "layer2.0.conv2"), BatchNorm2D(Name = "layer2.0.bn2")]
[Conv2D(128, 1, Stride = 2, Bias = false, Name = "layer2.0.downsample.0", From = "layer1.1"), BatchNorm2D(Name = "layer2.0.downsample.1")]
[Add("layer2.0.bn2", "layer2.0.downsample.1", Name = "layer2.0", Activation = Activation.Relu)]
[Conv2D(128, 3, Padding = 1, Bias = false, Name = "layer2.1.conv1"), BatchNorm2D(Name = "layer2.1.bn1", Activation = Activation.Relu)]
[Conv2D(128, 3, Padding = 1, Bias = false, Name = "layer2.1.conv2"), BatchNorm2D(Name = "layer2.1.bn2")]
[Add("layer2.1.bn2", "layer2.0", Name = "layer2.1", Activation = Activation.Relu)]
// layer3: 256 channels, 14x14
[Conv2D(256, 3, Stride = 2, Padding = 1, Bias = false, Name = "layer3.0.conv1"), BatchNorm2D(Name = "layer3.0.bn1", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Bias = false, Name = "layer3.0.conv2"), BatchNorm2D(Name = "layer3.0.bn2")]
[Conv2D(256, 1, Stride = 2, Bias = false, Name = "layer3.0.downsample.0", From = "layer2.1"), BatchNorm2D(Name = "layer3.0.downsample.1")]
[Add("layer3.0.bn2", "layer3.0.downsample.1", Name = "layer3.0", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Bias = false, Name = "layer3.1.conv1"), BatchNorm2D(Name = "layer3.1.bn1", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Bias = false, Name = "layer3.1.conv2"), BatchNorm2D(Name = "layer3.1.bn2")]
[Add("layer3.1.bn2", "layer3.0", Name = "layer3.1", Activation = Activation.Relu)]
// layer4: 512 channels, 7x7
[Conv2D(512, 3, Stride = 2, Padding = 1, Bias = false, Name = "layer4.0.conv1"), BatchNorm2D(Name = "layer4.0.bn1", Activation = Activation.Relu)]
[Conv2D(512, 3, Padding = 1, Bias = false, Name = "layer4.0.conv2"), BatchNorm2D(Name = "layer4.0.bn2")]
[Conv2D(512, 1, Stride = 2, Bias = false, Name = "layer4.0.downsample.0", From = "layer3.1"), BatchNorm2D(Name = "layer4.0.downsample.1")]
[Add("layer4.0.bn2", "layer4.0.downsample.1", Name = "layer4.0", Activation = Activation.Relu)]
[Conv2D(512, 3, Padding = 1, Bias = false, Name = "layer4.1.conv1"), BatchNorm2D(Name = "layer4.1.bn1", Activation = Activation.Relu)]
[Conv2D(512, 3, Padding = 1, Bias = false, Name = "layer4.1.conv2"), BatchNorm2D(Name = "layer4.1.bn2")]
[Add("layer4.1.bn2", "layer4.0", Name = "layer4.1", Activation = Activation.Relu)]
[GlobalAvgPool2D(Name = "avgpool"), Flatten, Dense(1000, Name = "fc")]
public partial class ResNet18;
