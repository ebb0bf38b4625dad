using CnnGen;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// torchvision's AlexNet (../shared/zoo/alexnet): 61,100,840 parameters, 3x224x224 -> 1000 logits. Layer names are
/// the state_dict module paths; the ReLUs (features.1, 4, 7, 9, 11, classifier.2, 5) are fused into the layer before.
/// </summary>
/// <remarks>
/// torchvision's <c>avgpool = nn.AdaptiveAvgPool2d((6, 6))</c> is declared as <c>AdaptiveAvgPool2D(6, Name = "avgpool")</c>: at
/// 224x224 it reads a 6x6 map, so the planner makes it a view (no step); at other input sizes it averages PyTorch's windows.
/// </remarks>
[Network, Input(3, 224, 224)]
[Conv2D(64, 11, Stride = 4, Padding = 2, Name = "features.0", Activation = Activation.Relu), MaxPool2D(3, Stride = 2, Name = "features.2")]
[Conv2D(192, 5, Padding = 2, Name = "features.3", Activation = Activation.Relu), MaxPool2D(3, Stride = 2, Name = "features.5")]
[Conv2D(384, 3, Padding = 1, Name = "features.6", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Name = "features.8", Activation = Activation.Relu)]
[Conv2D(256, 3, Padding = 1, Name = "features.10", Activation = Activation.Relu), MaxPool2D(3, Stride = 2, Name = "features.12")]
[AdaptiveAvgPool2D(6, Name = "avgpool"), Flatten, Dropout(0.5f, Name = "classifier.0"), Dense(4096, Name = "classifier.1", Activation = Activation.Relu)]
[Dropout(0.5f, Name = "classifier.3"), Dense(4096, Name = "classifier.4", Activation = Activation.Relu)]
[Dense(1000, Name = "classifier.6")]
public partial class AlexNet;
