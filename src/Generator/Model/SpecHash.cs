using System;
using System.Collections;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;

namespace CnnGen.Generator.Model;

/// <summary>
/// A short stable hash of everything that shapes the generated code: FNV-1a over a canonical text that walks the
/// shaped network generically (every init-settable property of every record, by name), so a field added to
/// <see cref="LayerSpec"/> or <see cref="NetworkSpec"/> is hashed without being listed anywhere.
/// </summary>
internal static class SpecHash
{
    public static string Compute(object model, string version)
    {
        var sb = new StringBuilder(version);
        sb.Append('|');
        Write(sb, model);
        uint h = 2166136261;
        foreach (char c in sb.ToString())
        {
            h = unchecked((h ^ c) * 16777619);
        }

        return h.ToString("x8", CultureInfo.InvariantCulture);
    }

    /// <summary>The canonical text the hash is computed over (for tests and debugging).</summary>
    public static string CanonicalText(object model)
    {
        var sb = new StringBuilder();
        Write(sb, model);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                return;
            case string s:
                sb.Append('"').Append(s.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
                return;
            case float f:
                sb.Append(f.ToString("R", CultureInfo.InvariantCulture));
                return;
            case double d:
                sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                return;
            case bool b:
                sb.Append(b ? "true" : "false");
                return;
            case Enum e:
                sb.Append(e.GetType().Name).Append('.').Append(e.ToString());
                return;
            case IFormattable n when value.GetType().IsPrimitive:
                sb.Append(n.ToString(null, CultureInfo.InvariantCulture));
                return;
            case IEnumerable items:
                sb.Append('[');
                foreach (var item in items)
                {
                    Write(sb, item);
                    sb.Append(',');
                }

                sb.Append(']');
                return;
        }

        var type = value.GetType();
        sb.Append(type.Name).Append('{');
        foreach (var p in Fields(type))
        {
            sb.Append(p.Name).Append('=');
            Write(sb, p.GetValue(value));
            sb.Append(';');
        }

        sb.Append('}');
    }

    /// <summary>A record's data: its public properties with an (init) setter, by name; computed properties are left out.</summary>
    internal static PropertyInfo[] Fields(Type type) =>
        type.GetProperties(BindingFlags.Instance | BindingFlags.Public)
            .Where(p => p.GetIndexParameters().Length == 0 && p.SetMethod is not null)
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToArray();
}
