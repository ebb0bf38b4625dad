// LONG FORM, not compiled (CnnGen.Tests.csproj copies it to the output as text): ResNet50 with every layer written out,
// as written before the block attributes existed. BlockTests runs the generator on this file and on
// tests/CnnGen.Tests.Zoo.Networks/ResNet50.cs (declared with Bottleneck) and requires the same generated code, so the
// blocks expand to exactly these layers, names and wiring.
using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's ResNet-50 (../shared/zoo/resnet50, v1.5: the stride is on the 3x3 convolution): 25,557,032
/// parameters, 3x224x224 -> 1000 logits, 16 bottleneck blocks. Layer names are the state_dict module paths;
/// torchvision's shared <c>relu</c> is <c>Activation = Relu</c> on bn1, bn2 and the residual sum, which is named after
/// its block (<c>layer1.0</c>). Every block's first unit projects its input (<c>downsample</c>: 1x1 convolution and
/// batch norm). Batch norm folds into the convolutions at load.
/// </summary>
[Network, Input(3, 224, 224)]
[Conv2D(64, 7, Stride = 2, Padding = 3, Bias = false, Name = "conv1"), BatchNorm2D(Name = "bn1", Activation = Activation.Relu)]
[MaxPool2D(3, Stride = 2, Padding = 1, Name = "maxpool")]
// layer1: 3 bottlenecks, 64 -> 256 channels, 56x56
[Conv2D(64, 1, Bias = false, Name = "layer1.0.conv1"), BatchNorm2D(Name = "layer1.0.bn1", Activation = Activation.Relu)]
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "layer1.0.conv2"), BatchNorm2D(Name = "layer1.0.bn2", Activation = Activation.Relu)]
[Conv2D(256, 1, Bias = false, Name = "layer1.0.conv3"), BatchNorm2D(Name = "layer1.0.bn3")]
[Conv2D(256, 1, Bias = false, Name = "layer1.0.downsample.0", From = "maxpool"), BatchNorm2D(Name = "layer1.0.downsample.1")]
[Add("layer1.0.bn3", "layer1.0.downsample.1", Name = "layer1.0", Activation = Activation.Relu)]
[Conv2D(64, 1, Bias = false, Name = "layer1.1.conv1"), BatchNorm2D(Name = "layer1.1.bn1", Activation = Activation.Relu)]
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "layer1.1.conv2"), BatchNorm2D(Name = "layer1.1.bn2", Activation = Activation.Relu)]
[Conv2D(256, 1, Bias = false, Name = "layer1.1.conv3"), BatchNorm2D(Name = "layer1.1.bn3")]
[Add("layer1.1.bn3", "layer1.0", Name = "layer1.1", Activation = Activation.Relu)]
[Conv2D(64, 1, Bias = false, Name = "layer1.2.conv1"), BatchNorm2D(Name = "layer1.2.bn1", Activation = Activation.Relu)]
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "layer1.2.conv2"), BatchNorm2D(Name = "layer1.2.bn2", Activation = Activation.Relu)]
[Conv2D(256, 1, Bias = false, Name = "layer1.2.conv3"), BatchNorm2D(Name = "layer1.2.bn3")]
[Add("layer1.2.bn3", "layer1.1", Name = "layer1.2", Activation = Activation.Relu)]
// layer2: 4 bottlenecks, 128 -> 512 channels, 28x28; the first downsamples (stride 2)
[Conv2D(128, 1, Bias = false, Name = "layer2.0.conv1"), BatchNorm2D(Name = "layer2.0.bn1", Activation = Activation.Relu)]
[Conv2D(128, 3, Stride = 2, Padding = 1, Bias = false, Name = "layer2.0.conv2"), BatchNorm2D(Name = "layer2.0.bn2", Activation = Activation.Relu)]
[Conv2D(512, 1, Bias = false, Name = "layer2.0.conv3"), BatchNorm2D(Name = "layer2.0.bn3")]
[Conv2D(512, 1, Stride = 2, Bias = false, Name = "layer2.0.downsample.0", From = "layer1.2"), BatchNorm2D(Name = "layer2.0.downsample.1")]
[Add("layer2.0.bn3", "layer2.0.downsample.1", Name = "layer2.0", Activation = Activation.Relu)]
[Conv2D(128, 1, Bias = false, Name = "layer2.1.conv1"), BatchNorm2D(Name = "layer2.1.bn1", Activation = Activation.Relu)]
[Conv2D(128, 3, Padding = 1, Bias = false, Name = "layer2.1.conv2"), BatchNorm2D(Name = "layer2.1.bn2", Activation = Activation.Relu)]
[Conv2D(512, 1, Bias = false, Name = "layer2.1.conv3"), BatchNorm2D(Name = "layer2.1.bn3")]
[Add("layer2.1.bn3", "layer2.0", Name = "layer2.1", Activation = Activation.Relu)]
[Conv2D(128, 1, Bias = false, Name = "layer2.2.conv1"), BatchNorm2D(Name = "layer2.2.bn1", Activation = Activation.Relu)]
[Conv2D(128, 3, Padding = 1, Bias = false, Name = "layer2.2.conv2"), BatchNorm2D(Name = "layer2.2.bn2", Activation = Activation.Relu)]
[Conv2D(512, 1, Bias = false, Name = "layer2.2.conv3"), BatchNorm2D(Name = "layer2.2.bn3")]
[Add("layer2.2.bn3", "layer2.1", Name = "layer2.2", Activation = Activation.Relu)]
[Conv2D(128, 1, Bias = false, Name = "layer2.3.conv1"), BatchNorm2D(Name = "layer2.3.bn1", Activation = Activation.Relu)]
[Conv2D(128, 3, Padding = 1, Bias = false, Name = "layer2.3.conv2"), BatchNorm2D(Name = "layer2.3.bn2", Activation = Activation.Relu)]
[Conv2D(512, 1, Bias = false, Name = "layer2.3.conv3"), BatchNorm2D(Name = "layer2.3.bn3")]
[Add("layer2.3.bn3", "layer2.2", Name = "layer2.3", Activation = Activation.Relu)]
// layer3: 6 bottlenecks, 256 -> 1024 channels, 14x14; the first downsamples (stride 2)
[Conv2D(256, 1, Bias = false, Name = "layer3.0.conv1"), BatchNorm2D(Name = "layer3.0.bn1", Activation = Activation.Relu)]
[Conv2D(256, 3, Stride = 2, Padding = 1, Bias = false, Name = "layer3.0.conv2"), BatchNorm2D(Name = "layer3.0.bn2", Activation = Activation.Relu)]
[Conv2D(1024, 1, Bias = false, Name = "layer3.0.conv3"), BatchNorm2D(Name = "layer3.0.bn3")]
[Conv2D(1024, 1, Stride = 2, Bias = false, Name = "layer3.0.downsample.0", From = "layer2.3"), BatchNorm2D(Name = "layer3.0.downsample.1")]
[Add("layer3.0.bn3", "layer3.0.downsample.1", Name = "layer3.0", Activation = Activation.Relu)]
[Conv2D(256, 1, Bias = false, Name = "layer3.1.conv1"), BatchNorm2D(Name = "layer3.1.bn1", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Bias = false, Name = "layer3.1.conv2"), BatchNorm2D(Name = "layer3.1.bn2", Activation = Activation.Relu)]
[Conv2D(1024, 1, Bias = false, Name = "layer3.1.conv3"), BatchNorm2D(Name = "layer3.1.bn3")]
[Add("layer3.1.bn3", "layer3.0", Name = "layer3.1", Activation = Activation.Relu)]
[Conv2D(256, 1, Bias = false, Name = "layer3.2.conv1"), BatchNorm2D(Name = "layer3.2.bn1", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Bias = false, Name = "layer3.2.conv2"), BatchNorm2D(Name = "layer3.2.bn2", Activation = Activation.Relu)]
[Conv2D(1024, 1, Bias = false, Name = "layer3.2.conv3"), BatchNorm2D(Name = "layer3.2.bn3")]
[Add("layer3.2.bn3", "layer3.1", Name = "layer3.2", Activation = Activation.Relu)]
[Conv2D(256, 1, Bias = false, Name = "layer3.3.conv1"), BatchNorm2D(Name = "layer3.3.bn1", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Bias = false, Name = "layer3.3.conv2"), BatchNorm2D(Name = "layer3.3.bn2", Activation = Activation.Relu)]
[Conv2D(1024, 1, Bias = false, Name = "layer3.3.conv3"), BatchNorm2D(Name = "layer3.3.bn3")]
[Add("layer3.3.bn3", "layer3.2", Name = "layer3.3", Activation = Activation.Relu)]
[Conv2D(256, 1, Bias = false, Name = "layer3.4.conv1"), BatchNorm2D(Name = "layer3.4.bn1", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Bias = false, Name = "layer3.4.conv2"), BatchNorm2D(Name = "layer3.4.bn2", Activation = Activation.Relu)]
[Conv2D(1024, 1, Bias = false, Name = "layer3.4.conv3"), BatchNorm2D(Name = "layer3.4.bn3")]
[Add("layer3.4.bn3", "layer3.3", Name = "layer3.4", Activation = Activation.Relu)]
[Conv2D(256, 1, Bias = false, Name = "layer3.5.conv1"), BatchNorm2D(Name = "layer3.5.bn1", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Bias = false, Name = "layer3.5.conv2"), BatchNorm2D(Name = "layer3.5.bn2", Activation = Activation.Relu)]
[Conv2D(1024, 1, Bias = false, Name = "layer3.5.conv3"), BatchNorm2D(Name = "layer3.5.bn3")]
[Add("layer3.5.bn3", "layer3.4", Name = "layer3.5", Activation = Activation.Relu)]
// layer4: 3 bottlenecks, 512 -> 2048 channels, 7x7; the first downsamples (stride 2)
[Conv2D(512, 1, Bias = false, Name = "layer4.0.conv1"), BatchNorm2D(Name = "layer4.0.bn1", Activation = Activation.Relu)]
[Conv2D(512, 3, Stride = 2, Padding = 1, Bias = false, Name = "layer4.0.conv2"), BatchNorm2D(Name = "layer4.0.bn2", Activation = Activation.Relu)]
[Conv2D(2048, 1, Bias = false, Name = "layer4.0.conv3"), BatchNorm2D(Name = "layer4.0.bn3")]
[Conv2D(2048, 1, Stride = 2, Bias = false, Name = "layer4.0.downsample.0", From = "layer3.5"), BatchNorm2D(Name = "layer4.0.downsample.1")]
[Add("layer4.0.bn3", "layer4.0.downsample.1", Name = "layer4.0", Activation = Activation.Relu)]
[Conv2D(512, 1, Bias = false, Name = "layer4.1.conv1"), BatchNorm2D(Name = "layer4.1.bn1", Activation = Activation.Relu)]
[Conv2D(512, 3, Padding = 1, Bias = false, Name = "layer4.1.conv2"), BatchNorm2D(Name = "layer4.1.bn2", Activation = Activation.Relu)]
[Conv2D(2048, 1, Bias = false, Name = "layer4.1.conv3"), BatchNorm2D(Name = "layer4.1.bn3")]
[Add("layer4.1.bn3", "layer4.0", Name = "layer4.1", Activation = Activation.Relu)]
[Conv2D(512, 1, Bias = false, Name = "layer4.2.conv1"), BatchNorm2D(Name = "layer4.2.bn1", Activation = Activation.Relu)]
[Conv2D(512, 3, Padding = 1, Bias = false, Name = "layer4.2.conv2"), BatchNorm2D(Name = "layer4.2.bn2", Activation = Activation.Relu)]
[Conv2D(2048, 1, Bias = false, Name = "layer4.2.conv3"), BatchNorm2D(Name = "layer4.2.bn3")]
[Add("layer4.2.bn3", "layer4.1", Name = "layer4.2", Activation = Activation.Relu)]
[GlobalAvgPool2D(Name = "avgpool"), Flatten, Dense(1000, Name = "fc")]
public partial class ResNet50;
