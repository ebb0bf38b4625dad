using System;

namespace CnnGen;

/// <content>Element-wise activations, softmax and log-softmax, and their backward passes.</content>
public abstract partial class Reference<T>
{
    /// <summary>
    /// Applies an element-wise activation: None (copy), Relu <c>max(x,0)</c>, Relu6 <c>min(max(x,0),6)</c>,
    /// LeakyRelu <c>x &gt;= 0 ? x : alpha*x</c>, Sigmoid <c>1/(1+exp(-x))</c>, Tanh, SiLU <c>x*sigmoid(x)</c>.
    /// All are finite for finite inputs (no overflow at +-90). <paramref name="input"/> and <paramref name="output"/> may be the same memory.
    /// </summary>
    /// <param name="input">Input values.</param>
    /// <param name="output">Output values, same length as <paramref name="input"/>.</param>
    /// <param name="activation">The activation; <see cref="Activation.Softmax"/> is not element-wise (use <see cref="Softmax"/>).</param>
    /// <param name="alpha">The LeakyRelu negative slope (PyTorch's default is 0.01).</param>
    /// <exception cref="ArgumentException">Lengths differ, or the activation is Softmax or unknown.</exception>
    public static void Activate(ReadOnlySpan<T> input, Span<T> output, Activation activation, T alpha)
    {
        CheckLength(output, input.Length, nameof(output));
        Func<T, T> f = activation switch
        {
            Activation.None => x => x,
            Activation.Relu => x => T.Max(x, T.Zero), // propagates NaN, like PyTorch
            Activation.Relu6 => x => T.Min(T.Max(x, T.Zero), Six),
            Activation.LeakyRelu => x => x >= T.Zero ? x : alpha * x,
            Activation.Sigmoid => Sigmoid,
            Activation.Tanh => T.Tanh,
            Activation.SiLU => x => x * Sigmoid(x),
            _ => throw NotElementWise(activation),
        };
        for (int i = 0; i < input.Length; i++)
        {
            output[i] = f(input[i]);
        }
    }

    /// <summary><see cref="Activate(ReadOnlySpan{T}, Span{T}, Activation, T)"/> with PyTorch's default LeakyRelu slope 0.01.</summary>
    /// <param name="input">Input values.</param>
    /// <param name="output">Output values, same length as <paramref name="input"/>.</param>
    /// <param name="activation">The activation.</param>
    public static void Activate(ReadOnlySpan<T> input, Span<T> output, Activation activation) =>
        Activate(input, output, activation, DefaultLeakySlope);

    /// <summary>
    /// Backward pass of <see cref="Activate(ReadOnlySpan{T}, Span{T}, Activation, T)"/>: <c>inputGrad = outputGrad * f'(x)</c>, with
    /// PyTorch's choices at the kinks: Relu passes the gradient where <c>x &gt; 0</c>, Relu6 where <c>0 &lt; x &lt; 6</c>, LeakyRelu
    /// uses <paramref name="alpha"/> where <c>x &lt;= 0</c>; Sigmoid <c>y(1-y)</c>, Tanh <c>1-y^2</c> (from the output <c>y</c>),
    /// SiLU <c>s(1 + x(1-s))</c> with <c>s = sigmoid(x)</c>. <paramref name="outputGrad"/> and <paramref name="inputGrad"/> may be the same memory.
    /// </summary>
    /// <param name="input">The forward input.</param>
    /// <param name="outputGrad">d loss / d output, same length.</param>
    /// <param name="inputGrad">Receives d loss / d input, same length (overwritten).</param>
    /// <param name="activation">The activation.</param>
    /// <param name="alpha">The LeakyRelu negative slope.</param>
    /// <exception cref="ArgumentException">Lengths differ, or the activation is Softmax or unknown.</exception>
    public static void ActivateBackward(ReadOnlySpan<T> input, ReadOnlySpan<T> outputGrad, Span<T> inputGrad, Activation activation, T alpha)
    {
        CheckLength(outputGrad, input.Length, nameof(outputGrad));
        CheckLength(inputGrad, input.Length, nameof(inputGrad));
        Func<T, T> derivative = activation switch
        {
            Activation.None => _ => T.One,
            Activation.Relu => x => x > T.Zero ? T.One : T.Zero,
            Activation.Relu6 => x => x > T.Zero && x < Six ? T.One : T.Zero,
            Activation.LeakyRelu => x => x > T.Zero ? T.One : alpha,
            Activation.Sigmoid => x =>
            {
                T y = Sigmoid(x);
                return (T.One - y) * y;
            },
            Activation.Tanh => x =>
            {
                T y = T.Tanh(x);
                return T.One - (y * y);
            },
            Activation.SiLU => x =>
            {
                T s = Sigmoid(x);
                return s * (T.One + (x * (T.One - s)));
            },
            _ => throw NotElementWise(activation),
        };
        for (int i = 0; i < input.Length; i++)
        {
            inputGrad[i] = outputGrad[i] * derivative(input[i]);
        }
    }

    /// <summary><see cref="ActivateBackward(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Activation, T)"/> with the default LeakyRelu slope 0.01.</summary>
    /// <param name="input">The forward input.</param>
    /// <param name="outputGrad">d loss / d output, same length.</param>
    /// <param name="inputGrad">Receives d loss / d input, same length (overwritten).</param>
    /// <param name="activation">The activation.</param>
    public static void ActivateBackward(ReadOnlySpan<T> input, ReadOnlySpan<T> outputGrad, Span<T> inputGrad, Activation activation) =>
        ActivateBackward(input, outputGrad, inputGrad, activation, DefaultLeakySlope);

    /// <summary>
    /// Softmax over the channel axis of a <c>[channels, spatial]</c> tensor (PyTorch <c>softmax(dim=1)</c> for one item):
    /// for each spatial position <c>s</c>, <c>out[c, s] = exp(in[c, s] - m) / sum over k of exp(in[k, s] - m)</c> with <c>m</c> the maximum.
    /// </summary>
    /// <param name="input">Input <c>[channels, spatial]</c>.</param>
    /// <param name="channels">Length of the softmax axis.</param>
    /// <param name="spatial">H*W, or 1 for a vector.</param>
    /// <param name="output">Output, same shape.</param>
    public static void Softmax(ReadOnlySpan<T> input, int channels, int spatial, Span<T> output)
    {
        CheckSoftmax(input, channels, spatial);
        CheckLength(output, input.Length, nameof(output));
        for (int s = 0; s < spatial; s++)
        {
            T max = MaxOverChannels(input, channels, spatial, s);
            T sum = T.Zero;
            for (int c = 0; c < channels; c++)
            {
                T e = T.Exp(input[(c * spatial) + s] - max);
                output[(c * spatial) + s] = e;
                sum += e;
            }

            for (int c = 0; c < channels; c++)
            {
                output[(c * spatial) + s] /= sum;
            }
        }
    }

    /// <summary>
    /// Backward pass of <see cref="Softmax"/>: with <c>y</c> the softmax of the input, <c>inputGrad[c, s] = y[c, s] * (outputGrad[c, s] - sum over k of outputGrad[k, s] * y[k, s])</c>.
    /// (For training on a cross-entropy loss use <see cref="CrossEntropy(ReadOnlySpan{T}, int, int, ReadOnlySpan{int}, T, Span{T})"/> on the logits instead.)
    /// </summary>
    /// <param name="input">The forward input <c>[channels, spatial]</c>.</param>
    /// <param name="channels">Length of the softmax axis.</param>
    /// <param name="spatial">H*W, or 1 for a vector.</param>
    /// <param name="outputGrad">d loss / d output, same shape.</param>
    /// <param name="inputGrad">Receives d loss / d input, same shape (overwritten).</param>
    public static void SoftmaxBackward(ReadOnlySpan<T> input, int channels, int spatial, ReadOnlySpan<T> outputGrad, Span<T> inputGrad)
    {
        CheckSoftmax(input, channels, spatial);
        CheckLength(outputGrad, input.Length, nameof(outputGrad));
        CheckLength(inputGrad, input.Length, nameof(inputGrad));
        var y = new T[input.Length];
        Softmax(input, channels, spatial, y);
        for (int s = 0; s < spatial; s++)
        {
            T dot = T.Zero;
            for (int c = 0; c < channels; c++)
            {
                dot += outputGrad[(c * spatial) + s] * y[(c * spatial) + s];
            }

            for (int c = 0; c < channels; c++)
            {
                int k = (c * spatial) + s;
                inputGrad[k] = y[k] * (outputGrad[k] - dot);
            }
        }
    }

    /// <summary>
    /// Log-softmax over the channel axis of a <c>[channels, spatial]</c> tensor:
    /// <c>out[c, s] = in[c, s] - m - log(sum over k of exp(in[k, s] - m))</c>; finite even where softmax underflows to 0.
    /// </summary>
    /// <param name="input">Input <c>[channels, spatial]</c>.</param>
    /// <param name="channels">Length of the softmax axis.</param>
    /// <param name="spatial">H*W, or 1 for a vector.</param>
    /// <param name="output">Output, same shape.</param>
    public static void LogSoftmax(ReadOnlySpan<T> input, int channels, int spatial, Span<T> output)
    {
        CheckSoftmax(input, channels, spatial);
        CheckLength(output, input.Length, nameof(output));
        for (int s = 0; s < spatial; s++)
        {
            (T max, T logSum) = LogSumExp(input, channels, spatial, s);
            for (int c = 0; c < channels; c++)
            {
                output[(c * spatial) + s] = input[(c * spatial) + s] - max - logSum;
            }
        }
    }

    /// <summary>
    /// Backward pass of <see cref="LogSoftmax"/>: with <c>p</c> the softmax of the input,
    /// <c>inputGrad[c, s] = outputGrad[c, s] - p[c, s] * sum over k of outputGrad[k, s]</c>.
    /// </summary>
    /// <param name="input">The forward input <c>[channels, spatial]</c>.</param>
    /// <param name="channels">Length of the softmax axis.</param>
    /// <param name="spatial">H*W, or 1 for a vector.</param>
    /// <param name="outputGrad">d loss / d output, same shape.</param>
    /// <param name="inputGrad">Receives d loss / d input, same shape (overwritten).</param>
    public static void LogSoftmaxBackward(ReadOnlySpan<T> input, int channels, int spatial, ReadOnlySpan<T> outputGrad, Span<T> inputGrad)
    {
        CheckSoftmax(input, channels, spatial);
        CheckLength(outputGrad, input.Length, nameof(outputGrad));
        CheckLength(inputGrad, input.Length, nameof(inputGrad));
        for (int s = 0; s < spatial; s++)
        {
            (T max, T logSum) = LogSumExp(input, channels, spatial, s);
            T total = T.Zero;
            for (int c = 0; c < channels; c++)
            {
                total += outputGrad[(c * spatial) + s];
            }

            for (int c = 0; c < channels; c++)
            {
                int k = (c * spatial) + s;
                inputGrad[k] = outputGrad[k] - (T.Exp(input[k] - max - logSum) * total);
            }
        }
    }

    /// <summary>The logistic function, split by sign so that exp never overflows: for x &lt; 0, <c>e^x / (1 + e^x)</c>.</summary>
    private static T Sigmoid(T x)
    {
        if (x >= T.Zero)
        {
            return T.One / (T.One + T.Exp(-x));
        }

        T e = T.Exp(x);
        return e / (T.One + e);
    }

    private static ArgumentException NotElementWise(Activation activation) => activation == Activation.Softmax
        ? new ArgumentException("Softmax is not element-wise; use Reference.Softmax.", nameof(activation))
        : new ArgumentException($"Unknown activation {activation}.", nameof(activation));

    private static void CheckSoftmax(ReadOnlySpan<T> input, int channels, int spatial)
    {
        Positive(channels, nameof(channels));
        Positive(spatial, nameof(spatial));
        CheckLength(input, (long)channels * spatial, nameof(input));
    }

    private static T MaxOverChannels(ReadOnlySpan<T> input, int channels, int spatial, int s)
    {
        T max = T.NegativeInfinity;
        for (int c = 0; c < channels; c++)
        {
            max = T.Max(max, input[(c * spatial) + s]);
        }

        return max;
    }

    /// <summary>The maximum <c>m</c> over the channels at position <paramref name="s"/> and <c>log(sum over c of exp(in[c, s] - m))</c>.</summary>
    private static (T Max, T LogSum) LogSumExp(ReadOnlySpan<T> input, int channels, int spatial, int s)
    {
        T max = MaxOverChannels(input, channels, spatial, s);
        T sum = T.Zero;
        for (int c = 0; c < channels; c++)
        {
            sum += T.Exp(input[(c * spatial) + s] - max);
        }

        return (max, T.Log(sum));
    }
}
