using System;
using System.Globalization;

namespace CnnGen.Generator.Model;

/// <summary>How generated comments and docs write counts and numbers: one rule everywhere.</summary>
internal static class Words
{
    /// <summary>A count and its noun, singular for one: "1 tile", "3 tiles".</summary>
    public static string Count(long n, string noun) => n.ToString(CultureInfo.InvariantCulture) + " " + Plural(n, noun);

    /// <summary>A large number as prose shows it (and the summary table prints it): "61,706".</summary>
    public static string Number(long n) => n.ToString("#,0", CultureInfo.InvariantCulture);

    /// <summary>A count in prose format with its noun: "61,706 parameters".</summary>
    public static string CountNumber(long n, string noun) => Number(n) + " " + Plural(n, noun);

    /// <summary><paramref name="noun"/> for a count of <paramref name="n"/>: <c>class</c>, <c>classes</c>; <c>float</c>, <c>floats</c>.</summary>
    private static string Plural(long n, string noun) =>
        n == 1 ? noun
        : noun.EndsWith("s", StringComparison.Ordinal) || noun.EndsWith("x", StringComparison.Ordinal) || noun.EndsWith("ch", StringComparison.Ordinal) || noun.EndsWith("sh", StringComparison.Ordinal) ? noun + "es"
        : noun + "s";
}
