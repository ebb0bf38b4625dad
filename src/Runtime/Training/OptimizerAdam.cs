using System;
using System.Collections.Generic;

namespace CnnGen.Training;

/// <content>What <see cref="Adam"/> and <see cref="AdamW"/> share: checks, the update, the saved hyper-parameters.</content>
public abstract partial class Optimizer
{
    private const string ExpAvg = "exp_avg";
    private const string ExpAvgSq = "exp_avg_sq";
    private const string MaxExpAvgSq = "max_exp_avg_sq";

    /// <summary>PyTorch's checks (0 &lt;= beta &lt; 1, eps &gt;= 0, weight decay &gt;= 0); returns the buffer names.</summary>
    private protected static string[] CheckAdam(AdamFamilyOptions o)
    {
        CheckRange(o.Beta1, 0, 1, true, "beta1", "options");
        CheckRange(o.Beta2, 0, 1, true, "beta2", "options");
        CheckRange(o.Epsilon, 0, double.MaxValue, false, "eps", "options");
        CheckRange(o.WeightDecay, 0, double.MaxValue, false, "The weight decay", "options");
        return o.AmsGrad ? [ExpAvg, ExpAvgSq, MaxExpAvgSq] : [ExpAvg, ExpAvgSq];
    }

    /// <summary>One Adam (<paramref name="decoupled"/> false) or AdamW step of elements [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) of parameter <paramref name="index"/>.</summary>
    private protected void UpdateAdam(int index, long step, int start, int length, AdamFamilyOptions o, bool decoupled)
    {
        Parameter parameter = At(index);
        var scalars = new AdamScalars(LearningRate, o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay, o.AmsGrad, decoupled, step);
        Span<float> value = parameter.Value, gradient = parameter.Gradient, m = Buffer(0, index).Span, v = Buffer(1, index).Span;
        Span<float> vmax = o.AmsGrad ? Buffer(2, index).Span.Slice(start, length) : Span<float>.Empty;
        TrainingMath.Adam(value.Slice(start, length), gradient.Slice(start, length), m.Slice(start, length), v.Slice(start, length), vmax, scalars);
    }

    /// <summary>Writes <c>beta1</c>, <c>beta2</c>, <c>eps</c>, <c>weight_decay</c> and <c>amsgrad</c>.</summary>
    private protected static void WriteAdam(Dictionary<string, string> metadata, AdamFamilyOptions o)
    {
        metadata["beta1"] = Text(o.Beta1);
        metadata["beta2"] = Text(o.Beta2);
        metadata["eps"] = Text(o.Epsilon);
        metadata["weight_decay"] = Text(o.WeightDecay);
        metadata["amsgrad"] = Text(o.AmsGrad);
    }

    /// <summary>Parses and checks the saved hyper-parameters into a copy of <paramref name="current"/> (same record type).</summary>
    private protected static (string[] BufferNames, Action Apply) ReadAdam(IReadOnlyDictionary<string, string> metadata, AdamFamilyOptions current, Action<AdamFamilyOptions> apply)
    {
        AdamFamilyOptions options = current with
        {
            LearningRate = ReadDouble(metadata, "initial_lr", 0, double.MaxValue),
            Beta1 = ReadDouble(metadata, "beta1", 0, 1),
            Beta2 = ReadDouble(metadata, "beta2", 0, 1),
            Epsilon = ReadDouble(metadata, "eps", 0, double.MaxValue),
            WeightDecay = ReadDouble(metadata, "weight_decay", 0, double.MaxValue),
            AmsGrad = ReadBool(metadata, "amsgrad"),
        };
        return (CheckLoaded(() => CheckAdam(options)), () => apply(options));
    }
}
