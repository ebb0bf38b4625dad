#if CNNGEN_GENERATOR
// The generator's copy lives in its model namespace, so tests that see the generator's internals do not find two CnnGen.Activation types.
namespace CnnGen.Generator.Model;
#else
namespace CnnGen;
#endif

/// <summary>An element-wise activation, fused into a layer or used as a layer of its own.</summary>
#if CNNGEN_GENERATOR
internal
#else
public
#endif
enum Activation
{
    /// <summary>Identity.</summary>
    None = 0,
    /// <summary><c>max(x, 0)</c> (PyTorch <c>nn.ReLU</c>).</summary>
    Relu = 1,
    /// <summary><c>min(max(x, 0), 6)</c> (PyTorch <c>nn.ReLU6</c>).</summary>
    Relu6 = 2,
    /// <summary><c>x &gt;= 0 ? x : Alpha * x</c>; Alpha defaults to PyTorch's 0.01.</summary>
    LeakyRelu = 3,
    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    Sigmoid = 4,
    /// <summary><c>tanh(x)</c>.</summary>
    Tanh = 5,
    /// <summary><c>x * sigmoid(x)</c> (swish).</summary>
    SiLU = 6,
    /// <summary>Softmax over the channel axis (PyTorch <c>dim=1</c>). Only allowed on the network's output.</summary>
    Softmax = 7,
}

/// <summary>How a convolution's padding is chosen.</summary>
#if CNNGEN_GENERATOR
internal
#else
public
#endif
enum PaddingMode
{
    /// <summary>The explicit <c>Padding</c> / <c>PadTop</c>... values (default 0).</summary>
    Explicit = 0,
    /// <summary>No padding (PyTorch <c>padding='valid'</c>).</summary>
    Valid = 1,
    /// <summary>
    /// Output size equals input size (PyTorch <c>padding='same'</c>, stride 1 only): total padding
    /// <c>dilation * (kernel - 1)</c> per axis, the odd extra row/column at the bottom/right.
    /// </summary>
    Same = 2,
}
