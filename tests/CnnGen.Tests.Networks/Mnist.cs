using CnnGen;

namespace CnnGen.Tests.Networks;

/// <summary>LeNet-5 exactly as ../shared/models/lenet5 (PyTorch): softmax output (trainable: the softmax folds into the loss).</summary>
[Network(Trainable = true), Input(1, 28, 28)]
[Conv2D(6, 5, Padding = 2, Activation = Activation.Relu), MaxPool2D(2)]
[Conv2D(16, 5, Activation = Activation.Relu), MaxPool2D(2), Flatten]
[Dense(120, Activation = Activation.Relu), Dense(84, Activation = Activation.Relu), Dense(10, Activation = Activation.Softmax)]
public partial class LeNet5;

/// <summary>LeNet-5 without the softmax: outputs the logits (golden_logits.bin, the training goldens' batch0_logits.bin).</summary>
[Network(Trainable = true), Input(1, 28, 28)]
[Conv2D(6, 5, Padding = 2), ReLU, MaxPool2D(2)]
[Conv2D(16, 5), ReLU, MaxPool2D(2), Flatten]
[Dense(120), ReLU, Dense(84), ReLU, Dense(10)]
public partial class LeNet5Logits;

/// <summary>The 784-128-64-10 fully connected network of ../shared/models/mlp (trainable: the softmax folds into the loss).</summary>
[Network(Trainable = true), Input(1, 28, 28), Flatten]
[Dense(128, Activation = Activation.Relu), Dense(64, Activation = Activation.Relu), Dense(10), Softmax]
public partial class Mlp;

/// <summary>The MLP without its softmax: outputs the logits (the training goldens' batch0_logits.bin).</summary>
[Network(Trainable = true), Input(1, 28, 28), Flatten]
[Dense(128, Activation = Activation.Relu), Dense(64, Activation = Activation.Relu), Dense(10)]
public partial class MlpLogits;
