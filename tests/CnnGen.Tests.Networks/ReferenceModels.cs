using CnnGen;

namespace CnnGen.Tests.Networks;

/// <summary>../shared/models/cifar_resnet8 with batch norm folded into the convolutions (weights.safetensors).</summary>
[Network, Input(3, 32, 32)]
[Conv2D(16, 3, Padding = 1, Name = "conv1", Activation = Activation.Relu)]
[Conv2D(16, 3, Padding = 1, Name = "layer1.conv1", Activation = Activation.Relu)]
[Conv2D(16, 3, Padding = 1, Name = "layer1.conv2")]
[Add("layer1.conv2", "conv1", Name = "layer1.out", Activation = Activation.Relu)]
[Conv2D(32, 3, Stride = 2, Padding = 1, Name = "layer2.conv1", Activation = Activation.Relu)]
[Conv2D(32, 3, Padding = 1, Name = "layer2.conv2")]
[Conv2D(32, 1, Stride = 2, Name = "layer2.proj", From = "layer1.out")]
[Add("layer2.conv2", "layer2.proj", Name = "layer2.out", Activation = Activation.Relu)]
[Conv2D(64, 3, Stride = 2, Padding = 1, Name = "layer3.conv1", Activation = Activation.Relu)]
[Conv2D(64, 3, Padding = 1, Name = "layer3.conv2")]
[Conv2D(64, 1, Stride = 2, Name = "layer3.proj", From = "layer2.out")]
[Add("layer3.conv2", "layer3.proj", Name = "layer3.out", Activation = Activation.Relu)]
[GlobalAvgPool2D, Flatten, Dense(10, Name = "fc")]
public partial class CifarResNet8;

/// <summary>
/// ../shared/models/cifar_resnet8 with explicit batch norm (weights_bn.safetensors); CnnGen folds it at load. Trainable:
/// its trainer runs batch norm with batch statistics (the training golden cifar_resnet8_bn).
/// </summary>
[Network(Trainable = true), Input(3, 32, 32)]
[Conv2D(16, 3, Padding = 1, Bias = false, Name = "conv1"), BatchNorm2D(Name = "bn1"), ReLU(Name = "stem_relu")]
[Conv2D(16, 3, Padding = 1, Bias = false, Name = "layer1.conv1"), BatchNorm2D(Name = "layer1.bn1"), ReLU]
[Conv2D(16, 3, Padding = 1, Bias = false, Name = "layer1.conv2"), BatchNorm2D(Name = "layer1.bn2")]
[Add("layer1.bn2", "stem_relu"), ReLU(Name = "layer1.out")]
[Conv2D(32, 3, Stride = 2, Padding = 1, Bias = false, Name = "layer2.conv1"), BatchNorm2D(Name = "layer2.bn1"), ReLU]
[Conv2D(32, 3, Padding = 1, Bias = false, Name = "layer2.conv2"), BatchNorm2D(Name = "layer2.bn2")]
[Conv2D(32, 1, Stride = 2, Bias = false, Name = "layer2.proj.0", From = "layer1.out"), BatchNorm2D(Name = "layer2.proj.1")]
[Add("layer2.bn2", "layer2.proj.1"), ReLU(Name = "layer2.out")]
[Conv2D(64, 3, Stride = 2, Padding = 1, Bias = false, Name = "layer3.conv1"), BatchNorm2D(Name = "layer3.bn1"), ReLU]
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "layer3.conv2"), BatchNorm2D(Name = "layer3.bn2")]
[Conv2D(64, 1, Stride = 2, Bias = false, Name = "layer3.proj.0", From = "layer2.out"), BatchNorm2D(Name = "layer3.proj.1")]
[Add("layer3.bn2", "layer3.proj.1"), ReLU(Name = "layer3.out")]
[GlobalAvgPool2D, Flatten, Dense(10, Name = "fc")]
public partial class CifarResNet8Bn;

/// <summary>../shared/models/mobilenet_block: depthwise 3x3 + ReLU6, pointwise 1x1 + ReLU6.</summary>
[Network, Input(32, 56, 56)]
[Conv2D(32, 3, Padding = 1, Groups = 32, Name = "dw", Activation = Activation.Relu6)]
[Conv2D(64, 1, Name = "pw", Activation = Activation.Relu6)]
public partial class MobileNetBlock;

/// <summary>../shared/models/vgg_block: two 3x3 64->64 convolutions with ReLU and a 2x2 max pool.</summary>
[Network, Input(64, 56, 56)]
[Conv2D(64, 3, Padding = 1, Name = "conv1", Activation = Activation.Relu)]
[Conv2D(64, 3, Padding = 1, Name = "conv2", Activation = Activation.Relu)]
[MaxPool2D(2)]
public partial class VggBlock;
