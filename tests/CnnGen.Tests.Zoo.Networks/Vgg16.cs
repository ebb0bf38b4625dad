using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's VGG-16 without batch norm (../shared/zoo/vgg16): 138,357,544 parameters, 3x224x224 -> 1000 logits.
/// Layer names are the state_dict module paths; every ReLU (features.1, 3, ...; classifier.1, 4) is fused into the
/// layer before it.
/// </summary>
/// <remarks>
/// torchvision's <c>avgpool = nn.AdaptiveAvgPool2d((7, 7))</c> is declared as <c>AdaptiveAvgPool2D(7, Name = "avgpool")</c>: at
/// 224x224 it reads a 7x7 map, so the planner makes it a view (no step); at other input sizes it averages PyTorch's windows.
/// </remarks>
[Network, Input(3, 224, 224)]
[Conv2D(64, 3, Padding = 1, Name = "features.0", Activation = Activation.Relu)]
[Conv2D(64, 3, Padding = 1, Name = "features.2", Activation = Activation.Relu), MaxPool2D(2, Name = "features.4")]
[Conv2D(128, 3, Padding = 1, Name = "features.5", Activation = Activation.Relu)]
[Conv2D(128, 3, Padding = 1, Name = "features.7", Activation = Activation.Relu), MaxPool2D(2, Name = "features.9")]
[Conv2D(256, 3, Padding = 1, Name = "features.10", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Name = "features.12", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Name = "features.14", Activation = Activation.Relu), MaxPool2D(2, Name = "features.16")]
[Conv2D(512, 3, Padding = 1, Name = "features.17", Activation = Activation.Relu)]
[Conv2D(512, 3, Padding = 1, Name = "features.19", Activation = Activation.Relu)]
[Conv2D(512, 3, Padding = 1, Name = "features.21", Activation = Activation.Relu), MaxPool2D(2, Name = "features.23")]
[Conv2D(512, 3, Padding = 1, Name = "features.24", Activation = Activation.Relu)]
[Conv2D(512, 3, Padding = 1, Name = "features.26", Activation = Activation.Relu)]
[Conv2D(512, 3, Padding = 1, Name = "features.28", Activation = Activation.Relu), MaxPool2D(2, Name = "features.30")]
[AdaptiveAvgPool2D(7, Name = "avgpool"), Flatten, Dense(4096, Name = "classifier.0", Activation = Activation.Relu), Dropout(0.5f, Name = "classifier.2")]
[Dense(4096, Name = "classifier.3", Activation = Activation.Relu), Dropout(0.5f, Name = "classifier.5")]
[Dense(1000, Name = "classifier.6")]
public partial class Vgg16;
