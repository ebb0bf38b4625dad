using System;

namespace CnnGen;

/// <summary>
/// How a generated network finds its tensors when loading weights. By default a layer named <c>conv1</c> reads
/// <c>conv1.weight</c> and <c>conv1.bias</c>; a prefix or a key map handles other naming schemes, e.g. an
/// <c>nn.Sequential</c>'s <c>features.0.weight</c>. Loading is strict by default: every tensor of the file must be read.
/// </summary>
public sealed class LoadOptions
{
    /// <summary>
    /// Weights beyond plus or minus this magnitude are rejected at load with a <see cref="WeightsException"/>: no trained
    /// network holds one (weights and batch-norm statistics stay many orders of magnitude below), such a value overflows
    /// float arithmetic within a layer or two, and it is what a corrupt file or one read with the wrong dtype looks like.
    /// </summary>
    public const float MaxWeightMagnitude = 1e15f;

    /// <summary>Prepended to every key, e.g. <c>"model."</c> for a wrapped state_dict.</summary>
    public string Prefix { get; init; } = string.Empty;

    /// <summary>
    /// Maps the key CnnGen wants (after <see cref="Prefix"/>) to the key in the file, e.g.
    /// <c>k =&gt; k.Replace("conv1.", "features.0.")</c>. Return the key unchanged to keep it; returning null is an error.
    /// </summary>
    public Func<string, string>? KeyMap { get; init; }

    /// <summary>
    /// When true (the default, as PyTorch's <c>load_state_dict(strict=True)</c>), a tensor in the file that no layer reads is
    /// an error, so a declaration that forgets a layer or a bias does not load silently. Batch norm's
    /// <c>num_batches_tracked</c> counters are always allowed. Set it to false to load part of a larger file, e.g. the first
    /// layers of a network.
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>Forces a vector width (tests use this to check every path on one machine). Default: the best the CPU has.</summary>
    public VectorWidth VectorWidth { get; init; }

    /// <summary>The key a layer's parameter is read from: <see cref="Prefix"/> + layer + "." + parameter, through <see cref="KeyMap"/>.</summary>
    /// <param name="layer">The layer's name, for example <c>conv1</c>.</param>
    /// <param name="parameter">The parameter, for example <c>weight</c>.</param>
    /// <returns>The key in the file.</returns>
    /// <exception cref="WeightsException"><see cref="KeyMap"/> returned null.</exception>
    public string KeyFor(string layer, string parameter)
    {
        string key = Prefix + layer + "." + parameter;
        if (KeyMap is null)
        {
            return key;
        }

        return KeyMap(key)
            ?? throw new WeightsException($"LoadOptions.KeyMap returned null for '{key}'; return the key unchanged to keep it.", key);
    }

    internal static readonly LoadOptions Default = new();
}
