using System;
using System.Collections.Generic;

namespace CnnGen.Training;

/// <summary>The hyper-parameters <see cref="Adam"/> and <see cref="AdamW"/> share (all but the learning rate).</summary>
internal readonly record struct AdamSettings(double Beta1, double Beta2, double Epsilon, double WeightDecay, bool AmsGrad)
{
    public const string ExpAvg = "exp_avg";
    public const string ExpAvgSq = "exp_avg_sq";
    public const string MaxExpAvgSq = "max_exp_avg_sq";

    public string[] BufferNames => AmsGrad ? [ExpAvg, ExpAvgSq, MaxExpAvgSq] : [ExpAvg, ExpAvgSq];

    /// <summary>PyTorch's checks: 0 &lt;= beta &lt; 1, eps &gt;= 0, weight decay &gt;= 0.</summary>
    public void Check()
    {
        Optimizer.CheckRange(Beta1, 0, 1, true, "beta1", "options");
        Optimizer.CheckRange(Beta2, 0, 1, true, "beta2", "options");
        Optimizer.CheckRange(Epsilon, 0, double.MaxValue, false, "eps", "options");
        Optimizer.CheckRange(WeightDecay, 0, double.MaxValue, false, "The weight decay", "options");
    }

    public void Write(Dictionary<string, string> metadata)
    {
        metadata["beta1"] = Optimizer.Text(Beta1);
        metadata["beta2"] = Optimizer.Text(Beta2);
        metadata["eps"] = Optimizer.Text(Epsilon);
        metadata["weight_decay"] = Optimizer.Text(WeightDecay);
        metadata["amsgrad"] = Optimizer.Text(AmsGrad);
    }

    public static AdamSettings Read(IReadOnlyDictionary<string, string> metadata)
    {
        var settings = new AdamSettings(
            Optimizer.ReadDouble(metadata, "beta1", 0, 1),
            Optimizer.ReadDouble(metadata, "beta2", 0, 1),
            Optimizer.ReadDouble(metadata, "eps", 0, double.MaxValue),
            Optimizer.ReadDouble(metadata, "weight_decay", 0, double.MaxValue),
            Optimizer.ReadBool(metadata, "amsgrad"));
        try
        {
            settings.Check();
        }
        catch (ArgumentException e)
        {
            throw new WeightsException("the optimizer state's hyper-parameters are invalid: " + e.Message, e);
        }

        return settings;
    }
}

/// <content>The Adam/AdamW update shared by both classes.</content>
public abstract partial class Optimizer
{
    /// <summary>One Adam (<paramref name="decoupled"/> false) or AdamW step of parameter <paramref name="index"/>.</summary>
    private protected void UpdateAdam(int index, long step, in AdamSettings s, bool decoupled)
    {
        Parameter parameter = At(index);
        var scalars = new AdamScalars(LearningRate, s.Beta1, s.Beta2, s.Epsilon, s.WeightDecay, s.AmsGrad, decoupled, step);
        Span<float> vmax = s.AmsGrad ? Buffer(2, index) : Span<float>.Empty;
        TrainingMath.Adam(parameter.Value, parameter.Gradient, Buffer(0, index), Buffer(1, index), vmax, scalars);
    }
}
