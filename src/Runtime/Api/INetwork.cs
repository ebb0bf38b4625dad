using System;

namespace CnnGen;

/// <summary>What every generated network offers; lets tools (benchmarks, samples) treat networks alike.</summary>
public interface INetwork
{
    /// <summary>Floats in one input image (C*H*W, NCHW order).</summary>
    int InputSize { get; }

    /// <summary>Floats in one output.</summary>
    int OutputSize { get; }

    /// <summary>The vector width this instance runs with.</summary>
    VectorWidth VectorWidth { get; }

    /// <summary>Runs the network on one NCHW image. Allocates nothing after the first call on a thread; thread-safe.</summary>
    void Predict(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>
    /// Runs the network on one NCHW image with up to <paramref name="threads"/> threads working together: its large layers
    /// split their output rows (dense layers their output tiles) between the threads; the output is the same, bit for bit,
    /// as <see cref="Predict(ReadOnlySpan{float}, Span{float})"/>'s. Allocates nothing after the first call.
    /// </summary>
    void Predict(ReadOnlyMemory<float> input, Memory<float> output, int threads);

    /// <summary>Runs the network on <paramref name="batchSize"/> images stored one after another.</summary>
    void PredictBatch(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize);

    /// <summary>Runs a batch on up to <paramref name="threads"/> threads, each taking a contiguous slice.</summary>
    void PredictBatch(ReadOnlyMemory<float> inputs, Memory<float> outputs, int batchSize, int threads);

    /// <summary>The index of the largest output.</summary>
    int Classify(ReadOnlySpan<float> input);
}

/// <summary>The SIMD vector width a network's kernels run with.</summary>
public enum VectorWidth
{
    /// <summary>The widest width the CPU accelerates and the network was generated for.</summary>
    Auto = 0,

    /// <summary>Vector128 (SSE, ARM64 NEON): 4 floats.</summary>
    V128 = 128,

    /// <summary>Vector256 (AVX2 + FMA): 8 floats. The baseline.</summary>
    V256 = 256,

    /// <summary>Vector512 (AVX-512): 16 floats.</summary>
    V512 = 512,
}
