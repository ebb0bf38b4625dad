using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Mnist;

/// <summary>A plain-text table with aligned columns: the first column left-aligned, the others right-aligned.</summary>
public sealed class TextTable
{
    private readonly string[] _header;
    private readonly List<string[]?> _rows = [];

    public TextTable(params string[] header)
    {
        ArgumentNullException.ThrowIfNull(header);
        _header = header;
    }

    public void Add(params string[] cells)
    {
        if (cells.Length != _header.Length)
        {
            throw new ArgumentException($"{cells.Length} cells for {_header.Length} columns", nameof(cells));
        }

        _rows.Add(cells);
    }

    /// <summary>Adds a horizontal rule.</summary>
    public void AddRule() => _rows.Add(null);

    public void Write(TextWriter writer, string indent = "")
    {
        var widths = new int[_header.Length];
        Measure(_header, widths);
        foreach (string[]? row in _rows)
        {
            if (row != null)
            {
                Measure(row, widths);
            }
        }

        int total = 0;
        foreach (int w in widths)
        {
            total += w;
        }

        total += 2 * (widths.Length - 1);
        writer.WriteLine(indent + Format(_header, widths));
        writer.WriteLine(indent + new string('-', total));
        foreach (string[]? row in _rows)
        {
            writer.WriteLine(indent + (row == null ? new string('-', total) : Format(row, widths)));
        }
    }

    private static void Measure(string[] cells, int[] widths)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            widths[i] = Math.Max(widths[i], cells[i].Length);
        }
    }

    private static string Format(string[] cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                sb.Append("  ");
            }

            sb.Append(i == 0 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
        }

        return sb.ToString().TrimEnd();
    }
}
