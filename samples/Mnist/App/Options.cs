using System;
using System.Collections.Generic;
using System.Globalization;
using CnnGen;

namespace Mnist;

/// <summary>A command line the sample cannot act on; reported as one line, exit code 1.</summary>
public sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The parsed command line: <c>[run|classify FILE|show|help] [options]</c>.</summary>
public sealed class Options
{
    public const int DefaultRuns = 5000;
    public const int DefaultWarmupMs = 500;

    public string Command { get; private set; } = "run";
    public string? File { get; private set; }
    public string? DataDir { get; private set; }
    public string Net { get; private set; } = "lenet5";
    public string OutDir { get; private set; } = "out";
    public int Digit { get; private set; }
    public int Runs { get; private set; } = DefaultRuns;
    public int WarmupMs { get; private set; } = DefaultWarmupMs;
    public VectorWidth Width { get; private set; } = VectorWidth.Auto;

    public LoadOptions LoadOptions => new() { VectorWidth = Width };

    public static Options Parse(IReadOnlyList<string> args)
    {
        var o = new Options();
        bool commandSeen = false;
        var positional = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "-h" or "--help" or "-?":
                    o.Command = "help";
                    commandSeen = true;
                    break;
                case "--data":
                    o.DataDir = Value(args, ref i);
                    break;
                case "--net":
                    o.Net = Value(args, ref i).ToLowerInvariant() switch
                    {
                        "lenet5" or "lenet-5" or "lenet" or "cnn" => "lenet5",
                        "mlp" or "fc" => "mlp",
                        string other => throw new UsageException($"unknown network '{other}' (expected lenet5 or mlp)"),
                    };
                    break;
                case "--out":
                    o.OutDir = Value(args, ref i);
                    break;
                case "--digit":
                    o.Digit = Int(args, ref i, min: 0);
                    break;
                case "--runs":
                    o.Runs = Int(args, ref i, min: 1);
                    break;
                case "--warmup":
                    o.WarmupMs = Int(args, ref i, min: 0);
                    break;
                case "--width":
                    o.Width = Value(args, ref i).ToLowerInvariant() switch
                    {
                        "auto" => VectorWidth.Auto,
                        "128" or "v128" => VectorWidth.V128,
                        "256" or "v256" => VectorWidth.V256,
                        "512" or "v512" => VectorWidth.V512,
                        string other => throw new UsageException($"unknown vector width '{other}' (expected auto, 128, 256 or 512)"),
                    };
                    break;
                default:
                    if (a.StartsWith('-') && a.Length > 1)
                    {
                        throw new UsageException($"unknown option '{a}' (see --help)");
                    }

                    if (!commandSeen && positional.Count == 0)
                    {
                        if (a is "run" or "classify" or "show" or "help")
                        {
                            o.Command = a;
                            commandSeen = true;
                            break;
                        }

                        throw new UsageException($"unknown command '{a}' (expected run, classify FILE or show; see --help)");
                    }

                    positional.Add(a);
                    break;
            }
        }

        if (o.Command == "help")
        {
            return o;
        }

        if (o.Command == "classify")
        {
            if (positional.Count == 0)
            {
                throw new UsageException("classify needs an image file: classify FILE [--net lenet5|mlp]");
            }

            if (positional.Count > 1)
            {
                throw new UsageException($"classify takes one image file, got {positional.Count}");
            }

            o.File = positional[0];
        }
        else if (positional.Count > 0)
        {
            throw new UsageException($"unexpected argument '{positional[0]}' (see --help)");
        }

        return o;
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count || string.IsNullOrEmpty(args[i + 1]))
        {
            throw new UsageException($"option {args[i]} needs a value");
        }

        i++;
        return args[i];
    }

    private static int Int(IReadOnlyList<string> args, ref int i, int min)
    {
        string name = args[i];
        string text = Value(args, ref i);
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < min)
        {
            throw new UsageException($"option {name} needs a whole number >= {min}, got '{text}'");
        }

        return v;
    }
}
