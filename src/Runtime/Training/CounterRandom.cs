using System;

namespace CnnGen.Training;

/// <summary>
/// A counter-based random number generator: every number is a pure function of a key and an index, with no
/// sequential state, so a tensor filled element by element, in any order, on any number of threads and on any
/// machine gets the same bits. The key mixes a seed and a stream (a tensor name, or a layer and a step for
/// dropout); the number at index <c>i</c> is SplitMix64's output for the state <c>key + (i + 1) * golden</c>,
/// the same sequence as a SplitMix64 generator seeded with <c>key</c>; the key is
/// <c>mix(mix(seed) ^ mix(stream ^ 0xD1B54A32D192ED03))</c>.
/// </summary>
public readonly struct CounterRandom : IEquatable<CounterRandom>
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const ulong StreamConstant = 0xD1B54A32D192ED03UL;

    /// <summary>Creates a generator for a seed and a stream number.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="stream">The stream: distinct streams give independent sequences.</param>
    public CounterRandom(ulong seed, ulong stream)
    {
        Key = Mix(Mix(seed) ^ Mix(stream ^ StreamConstant));
    }

    /// <summary>Creates a generator for a seed and a named stream, e.g. a parameter's <c>state_dict</c> name.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="stream">The stream's name (hashed with FNV-1a over its UTF-16 code units).</param>
    public CounterRandom(ulong seed, string stream)
        : this(seed, Hash(stream))
    {
    }

    /// <summary>The mixed key (identifies the sequence).</summary>
    public ulong Key { get; }

    /// <summary>A generator for a sub-stream of this one, e.g. one per training step.</summary>
    /// <param name="stream">The sub-stream number.</param>
    /// <returns>An independent generator.</returns>
    public CounterRandom Substream(ulong stream) => new(Key, stream);

    /// <summary>The 64 random bits at <paramref name="index"/>.</summary>
    /// <param name="index">The element index.</param>
    /// <returns>The bits.</returns>
    public ulong Bits(long index) => Mix(Key + (unchecked((ulong)index + 1) * Golden));

    /// <summary>A float in [0, 1) with 24 random bits (a multiple of 2^-24), like PyTorch's float <c>uniform_</c>.</summary>
    /// <param name="index">The element index.</param>
    /// <returns>The number.</returns>
    public float NextFloat(long index) => (Bits(index) >> 40) * (1f / (1 << 24));

    /// <summary>A double in [0, 1) with 53 random bits.</summary>
    /// <param name="index">The element index.</param>
    /// <returns>The number.</returns>
    public double NextDouble(long index) => (Bits(index) >> 11) * (1.0 / (1UL << 53));

    /// <summary>
    /// Fills <paramref name="destination"/> with <c>low + (high - low) * u</c>, <c>u</c> = <see cref="NextFloat"/>
    /// of element <c>startIndex + k</c>, computed in double and rounded to float (within [low, high]).
    /// </summary>
    /// <param name="destination">The elements to fill.</param>
    /// <param name="low">The lower bound.</param>
    /// <param name="high">The upper bound.</param>
    /// <param name="startIndex">The index of the first element.</param>
    public void FillUniform(Span<float> destination, double low, double high, long startIndex = 0)
    {
        double range = high - low;
        for (int k = 0; k < destination.Length; k++)
        {
            destination[k] = (float)(low + (range * NextFloat(startIndex + k)));
        }
    }

    /// <summary>
    /// The 32-bit seed of this stream's dropout masks: the dropout contract is <see cref="Reference{T}.DropoutKeeps"/>, a
    /// 32-bit counter-based hash that vectorized kernels reproduce lane by lane, seeded with this value. Use one
    /// <see cref="Substream"/> per step (and per layer) so every step draws a new mask.
    /// </summary>
    public uint DropoutSeed => unchecked((uint)(Key ^ (Key >> 32)));

    /// <summary>
    /// Fills an inverted-dropout mask: element <c>k</c> is <c>1 / (1 - p)</c> (kept) when
    /// <see cref="Reference{T}.DropoutKeeps"/>(<see cref="DropoutSeed"/>, <paramref name="startIndex"/> + k, p), else 0
    /// (dropped): exactly the mask <see cref="Reference{T}.Dropout"/> applies with that seed and offset. Multiply the
    /// activations by it in training; the backward pass multiplies the gradient by the same mask.
    /// </summary>
    /// <param name="mask">The mask to fill.</param>
    /// <param name="p">The drop probability, in [0, 1).</param>
    /// <param name="startIndex">The counter of the first element (e.g. image * features + offset; wraps at 2^32).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not in [0, 1).</exception>
    public void FillDropoutMask(Span<float> mask, float p, long startIndex = 0)
    {
        if (!(p >= 0 && p < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "The dropout probability must be in [0, 1).");
        }

        float scale = 1f / (1f - p);
        uint seed = DropoutSeed;
        for (int k = 0; k < mask.Length; k++)
        {
            mask[k] = Reference.DropoutKeeps(seed, unchecked((uint)(startIndex + k)), p) ? scale : 0f;
        }
    }

    /// <summary>FNV-1a (64-bit) of a string's UTF-16 code units: a stable hash, unlike <see cref="string.GetHashCode()"/>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The hash.</returns>
    public static ulong Hash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ulong hash = 0xCBF29CE484222325UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 0x100000001B3UL;
        }

        return hash;
    }

    /// <summary>SplitMix64's finalizer (Stafford's Mix13): a bijection of 64-bit integers with full avalanche.</summary>
    /// <param name="z">The input.</param>
    /// <returns>The mixed value.</returns>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <inheritdoc/>
    public bool Equals(CounterRandom other) => Key == other.Key;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CounterRandom other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Key.GetHashCode();

    /// <summary>Equality of keys.</summary>
    /// <param name="left">The first generator.</param>
    /// <param name="right">The second generator.</param>
    /// <returns>Whether they produce the same sequence.</returns>
    public static bool operator ==(CounterRandom left, CounterRandom right) => left.Equals(right);

    /// <summary>Inequality of keys.</summary>
    /// <param name="left">The first generator.</param>
    /// <param name="right">The second generator.</param>
    /// <returns>Whether they produce different sequences.</returns>
    public static bool operator !=(CounterRandom left, CounterRandom right) => !left.Equals(right);
}
