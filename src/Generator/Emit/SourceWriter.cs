using System;
using System.Globalization;
using System.Text;

namespace CnnGen.Generator.Emit;

/// <summary>
/// An indented text writer for generated C#; always "\n" line ends so output is identical on every OS. Blocks are
/// scopes: <c>using (w.Block("for (...)")) { ... }</c> writes the braces and the indentation, so a block cannot be
/// left open.
/// </summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public void Line(string text = "")
    {
        if (text.Length > 0)
        {
            _sb.Append(' ', _indent * 4);
            _sb.Append(text);
        }

        _sb.Append('\n');
    }

    /// <summary>Writes <paramref name="header"/>, then a braced block until the scope is disposed.</summary>
    public Scope Block(string header)
    {
        Line(header);
        return Block();
    }

    /// <summary>A bare braced block (a scope for locals).</summary>
    public Scope Block() => Braces("}");

    /// <summary>The braces of a switch expression: closed by <c>};</c>.</summary>
    public Scope SwitchExpression() => Braces("};");

    private Scope Braces(string closing)
    {
        Line("{");
        _indent++;
        return new Scope(this, closing);
    }

    /// <summary>A block with <paramref name="header"/> when <paramref name="open"/>, else nothing (the body is written at the current level).</summary>
    public Scope BlockIf(bool open, string header) => open ? Block(header) : default;

    /// <summary>One more level of indentation without braces (switch sections, continued expressions).</summary>
    public Scope Indented()
    {
        _indent++;
        return new Scope(this, null);
    }

    public override string ToString() => _sb.ToString();

    private void Close(string? closing)
    {
        _indent--;
        if (closing is not null)
        {
            Line(closing);
        }
    }

    /// <summary>Closes a block or an indentation level when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly SourceWriter? _writer;
        private readonly string? _closing;

        internal Scope(SourceWriter writer, string? closing)
        {
            _writer = writer;
            _closing = closing;
        }

        public void Dispose() => _writer?.Close(_closing);
    }

    /// <summary>A round-trippable float literal in invariant culture (<c>0.01f</c>).</summary>
    public static string Float(float value)
    {
        if (float.IsNaN(value) || float.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "non-finite literal");
        }

        string s = value.ToString("R", CultureInfo.InvariantCulture);
        if (s.IndexOf('.') < 0 && s.IndexOf('E') < 0)
        {
            s += ".0";
        }

        return s + "f";
    }

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A regular C# string literal of any text: quotes and backslashes escaped, and every character a literal cannot
    /// hold as is (control characters, line and paragraph separators, unpaired surrogates) as a <c>\uXXXX</c> escape.
    /// </summary>
    public static string Str(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            bool paired = char.IsHighSurrogate(c) ? i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                : !char.IsLowSurrogate(c) || (i > 0 && char.IsHighSurrogate(value[i - 1]));
            if (c == '"' || c == '\\')
            {
                sb.Append('\\').Append(c);
            }
            else if (c == '\n')
            {
                sb.Append("\\n");
            }
            else if (char.IsControl(c) || c is '\u2028' or '\u2029' || !paired)
            {
                sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.Append('"').ToString();
    }
}
