using CnnGen;

namespace CnnGen.Bench;

// The five reference networks of ../shared/models, declared to match each model.json op for op.
// Layer names are the PyTorch state_dict prefixes of models/<name>/weights.safetensors.

/// <summary>
/// mlp: Flatten, Dense 128+ReLU, 64+ReLU, 10, Softmax (output = the softmax, as golden_output.bin). Trainable for
/// <c>--train</c> (the softmax folds into the cross-entropy).
/// </summary>
[Network(Trainable = true), Input(1, 28, 28)]
[Flatten(Name = "flatten")]
[Dense(128, Activation = Activation.Relu, Name = "fc1")]
[Dense(64, Activation = Activation.Relu, Name = "fc2")]
[Dense(10, Name = "fc3")]
[Softmax(Name = "probs")]
public partial class Mlp;

/// <summary>
/// lenet5: Conv 6 5x5 pad 2 + ReLU, MaxPool 2, Conv 16 5x5 + ReLU, MaxPool 2, Flatten, Dense 120+ReLU, 84+ReLU, 10,
/// Softmax. Trainable for <c>--train</c>.
/// </summary>
[Network(Trainable = true), Input(1, 28, 28)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.Relu, Name = "conv1")]
[MaxPool2D(2, Name = "pool1")]
[Conv2D(16, 5, Activation = Activation.Relu, Name = "conv2")]
[MaxPool2D(2, Name = "pool2")]
[Flatten(Name = "flatten")]
[Dense(120, Activation = Activation.Relu, Name = "fc1")]
[Dense(84, Activation = Activation.Relu, Name = "fc2")]
[Dense(10, Name = "fc3")]
[Softmax(Name = "probs")]
public partial class LeNet5;

/// <summary>
/// cifar_resnet8 with BatchNorm folded (weights.safetensors): stem conv 16 + ReLU; residual blocks 16 (stride 1),
/// 32 and 64 (stride 2, 1x1 projection of the block input); global average pool; Dense 10.
/// </summary>
[Network, Input(3, 32, 32)]
[Conv2D(16, 3, Padding = 1, Activation = Activation.Relu, Name = "conv1")]
[Conv2D(16, 3, Padding = 1, Activation = Activation.Relu, Name = "layer1.conv1")]
[Conv2D(16, 3, Padding = 1, Name = "layer1.conv2")]
[Add("layer1.conv2", "conv1", Activation = Activation.Relu, Name = "layer1.out")]
[Conv2D(32, 3, Stride = 2, Padding = 1, Activation = Activation.Relu, Name = "layer2.conv1")]
[Conv2D(32, 3, Padding = 1, Name = "layer2.conv2")]
[Conv2D(32, 1, Stride = 2, Name = "layer2.proj", From = "layer1.out")]
[Add("layer2.conv2", "layer2.proj", Activation = Activation.Relu, Name = "layer2.out")]
[Conv2D(64, 3, Stride = 2, Padding = 1, Activation = Activation.Relu, Name = "layer3.conv1")]
[Conv2D(64, 3, Padding = 1, Name = "layer3.conv2")]
[Conv2D(64, 1, Stride = 2, Name = "layer3.proj", From = "layer2.out")]
[Add("layer3.conv2", "layer3.proj", Activation = Activation.Relu, Name = "layer3.out")]
[GlobalAvgPool2D(Name = "gap")]
[Flatten(Name = "flatten")]
[Dense(10, Name = "fc")]
public partial class CifarResNet8;

/// <summary>mobilenet_block: depthwise 3x3 (groups 32, pad 1) + ReLU6, pointwise 1x1 32->64 + ReLU6.</summary>
[Network, Input(32, 56, 56)]
[Conv2D(32, 3, Groups = 32, Padding = 1, Activation = Activation.Relu6, Name = "dw")]
[Conv2D(64, 1, Activation = Activation.Relu6, Name = "pw")]
public partial class MobileNetBlock;

/// <summary>vgg_block: Conv3x3 64->64 pad 1 + ReLU, Conv3x3 64->64 pad 1 + ReLU, MaxPool 2.</summary>
[Network, Input(64, 56, 56)]
[Conv2D(64, 3, Padding = 1, Activation = Activation.Relu, Name = "conv1")]
[Conv2D(64, 3, Padding = 1, Activation = Activation.Relu, Name = "conv2")]
[MaxPool2D(2, Name = "pool")]
public partial class VggBlock;

/// <summary>
/// cifar_resnet8 with explicit batch norm (models/cifar_resnet8/weights_bn.safetensors), for <c>--train</c>: its trainer
/// runs batch norm in training mode (batch statistics). Inference folds the batch norms at load.
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
