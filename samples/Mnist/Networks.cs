using CnnGen;

namespace Mnist;

/// <summary>
/// LeNet-5 exactly as the PyTorch model in shared/models/lenet5: two 5x5 convolutions with ReLU and 2x2 max
/// pooling, then three fully connected layers; softmax probabilities out. Weights: conv1, conv2, fc1, fc2, fc3.
/// Trainable: the generator also writes <c>LeNet5.Trainer</c> (backward kernels; the softmax is folded into the
/// cross-entropy), which <c>train</c> uses.
/// </summary>
[Network(Trainable = true), Input(1, 28, 28)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.Relu), MaxPool2D(2)]
[Conv2D(16, 5, Activation = Activation.Relu), MaxPool2D(2), Flatten]
[Dense(120, Activation = Activation.Relu), Dense(84, Activation = Activation.Relu)]
[Dense(10, Activation = Activation.Softmax)]
public sealed partial class LeNet5;

/// <summary>
/// The 784-128-64-10 fully connected network of shared/models/mlp; softmax probabilities out. Trainable, as LeNet-5.
/// </summary>
[Network(Trainable = true), Input(1, 28, 28), Flatten]
[Dense(128, Activation = Activation.Relu), Dense(64, Activation = Activation.Relu)]
[Dense(10, Activation = Activation.Softmax)]
public sealed partial class Mlp;

/// <summary>
/// LeNet-5 cut after its first convolution (+ ReLU): outputs the 6 feature maps of 28x28 that <c>show</c> draws.
/// Loads the full LeNet-5 weights file; the tensors it does not need are ignored (LoadOptions.Strict is false).
/// </summary>
[Network, Input(1, 28, 28)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.Relu)]
public sealed partial class LeNet5Conv1;

/// <summary>LeNet-5 cut after its second convolution (+ ReLU): 16 feature maps of 10x10.</summary>
[Network, Input(1, 28, 28)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.Relu), MaxPool2D(2)]
[Conv2D(16, 5, Activation = Activation.Relu)]
public sealed partial class LeNet5Conv2;
