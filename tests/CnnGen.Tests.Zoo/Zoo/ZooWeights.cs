using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;

namespace CnnGen.Tests.Zoo;

/// <summary>
/// The zoo's weight formula (../shared/zoo/README.md, zoo_weights.py), bit for bit: for the tensor with state_dict key
/// <c>name</c> and flat C-order index <c>i</c>, <c>z = splitmix64(fnv1a64(name) + i)</c>, <c>u = (z &gt;&gt; 40) / 2^24</c>
/// and <c>value = offset + (2u - 1) * bound</c> in float32, in that order.
/// </summary>
public static class ZooWeights
{
    /// <summary>FNV-1a's 64-bit offset basis.</summary>
    public const ulong FnvOffsetBasis = 0xcbf29ce484222325;

    /// <summary>FNV-1a's 64-bit prime.</summary>
    public const ulong FnvPrime = 0x100000001b3;

    /// <summary>The bound of the golden images' formula.</summary>
    public const float InputBound = 2f;

    private const int ParallelChunk = 1 << 16;

    /// <summary>64-bit FNV-1a of the UTF-8 bytes of <paramref name="name"/>: xor, then multiply, modulo 2^64.</summary>
    public static ulong Fnv1a64(string name)
    {
        ulong h = FnvOffsetBasis;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            h = unchecked((h ^ b) * FnvPrime);
        }

        return h;
    }

    /// <summary>SplitMix64's output function of state <paramref name="x"/> (the state is advanced by the golden gamma first).</summary>
    public static ulong SplitMix64(ulong x)
    {
        unchecked
        {
            ulong z = x + 0x9e3779b97f4a7c15;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
            z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Element <paramref name="index"/> of the tensor whose key hashes to <paramref name="hash"/>.</summary>
    public static float Value(ulong hash, long index, float bound, float offset)
    {
        ulong z = SplitMix64(unchecked(hash + (ulong)index));
        float u = (z >> 40) / 16777216f;
        float v = (2f * u - 1f) * bound;
        // zoo_weights.py adds the offset only when it is not zero (so a -0 would stay -0); the same here.
        return offset != 0f ? offset + v : v;
    }

    /// <summary>Fills <paramref name="destination"/> with elements 0, 1, ... of the tensor <paramref name="name"/>.</summary>
    public static void Fill(string name, float bound, float offset, Span<float> destination)
    {
        ulong hash = Fnv1a64(name);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = Value(hash, i, bound, offset);
        }
    }

    /// <summary>The tensor <paramref name="name"/> with <paramref name="count"/> elements (large tensors are filled on every core).</summary>
    public static float[] Formula(string name, int count, float bound, float offset = 0f)
    {
        var data = GC.AllocateUninitializedArray<float>(count);
        ulong hash = Fnv1a64(name);
        int chunks = (count + ParallelChunk - 1) / ParallelChunk;
        if (chunks <= 1)
        {
            Fill(name, bound, offset, data);
            return data;
        }

        Parallel.For(0, chunks, c =>
        {
            int start = c * ParallelChunk;
            int end = Math.Min(count, start + ParallelChunk);
            for (int i = start; i < end; i++)
            {
                data[i] = Value(hash, i, bound, offset);
            }
        });
        return data;
    }

    /// <summary>Golden image <paramref name="index"/> (0 or 1): the formula <c>input{index}</c> with bound 2 over 3x224x224 values, CHW.</summary>
    public static float[] Input(int index) => Formula($"input{index}", 3 * 224 * 224, InputBound);

    /// <summary>Both golden images, one after the other (NCHW, batch 2).</summary>
    public static float[] Inputs() => [.. Input(0), .. Input(1)];

    /// <summary>
    /// A model's whole state_dict: every parameter from the formula with golden.json's bound and offset, the batch-norm
    /// running statistics from running_stats.safetensors. VGG-16's is 553 MB: build it once and share it.
    /// </summary>
    public static TensorSet Build(ZooModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var running = model.RunningStatistics();
        var tensors = new List<Tensor>(model.Tensors.Count);
        foreach (var t in model.Tensors)
        {
            if (t.Bound is float bound)
            {
                tensors.Add(new Tensor(t.Name, t.Shape, Formula(t.Name, t.Count, bound, t.Offset)));
            }
            else
            {
                var stored = running.Get(t.Name);
                if (!stored.Shape.SequenceEqual(t.Shape))
                {
                    throw new InvalidOperationException($"{model.Name}: running statistic '{t.Name}' has shape [{string.Join(", ", stored.Shape.ToArray())}], golden.json says [{string.Join(", ", t.Shape)}].");
                }

                tensors.Add(stored);
            }
        }

        return new TensorSet(tensors);
    }
}
