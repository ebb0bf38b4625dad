using System;

namespace CnnGen;

/// <summary>
/// How a generated network finds its tensors when loading weights. By default a layer named <c>conv1</c> reads
/// <c>conv1.weight</c> and <c>conv1.bias</c>; a prefix or a key map handles other naming schemes, e.g. an
/// <c>nn.Sequential</c>'s <c>features.0.weight</c>.
/// </summary>
public sealed class LoadOptions
{
    /// <summary>Prepended to every key, e.g. <c>"model."</c> for a wrapped state_dict.</summary>
    public string Prefix { get; init; } = string.Empty;

    /// <summary>
    /// Maps the key CnnGen wants (after <see cref="Prefix"/>) to the key in the file, e.g.
    /// <c>k =&gt; k.Replace("conv1.", "features.0.")</c>. Return the key unchanged to keep it.
    /// </summary>
    public Func<string, string>? KeyMap { get; init; }

    /// <summary>When true, a tensor in the file that no layer reads is an error (as PyTorch's <c>strict=True</c>).</summary>
    public bool Strict { get; init; }

    /// <summary>Forces a vector width (tests use this to check every path on one machine). Default: the best the CPU has.</summary>
    public VectorWidth VectorWidth { get; init; }

    /// <summary>The key a layer's parameter is read from.</summary>
    public string KeyFor(string layer, string parameter)
    {
        string key = Prefix + layer + "." + parameter;
        return KeyMap is null ? key : KeyMap(key);
    }

    internal static readonly LoadOptions Default = new();
}
