using System;
using System.IO;
using Spectre.Console;

namespace Mnist;

/// <summary>
/// Tables for the sample's output, rendered by Spectre.Console: a rule above and below the header and under the
/// last row, the first column left-aligned and the others right-aligned. On a terminal Spectre may use color; into a
/// file, a pipe or a test's writer the output is plain text (no ANSI), as wide as it needs to be.
/// </summary>
public static class ConsoleTables
{
    /// <summary>Width of the plain-text rendering (wide enough that no table of the sample wraps).</summary>
    public const int PlainWidth = 200;

    /// <summary>A Spectre.Console console writing to <paramref name="writer"/>.</summary>
    public static IAnsiConsole ConsoleFor(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected)
        {
            return AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        }

        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = PlainWidth;
        return console;
    }

    /// <summary>A table with these column headers (plain text, not markup).</summary>
    public static Table Create(params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var table = new Table().Border(TableBorder.Horizontal);
        for (int i = 0; i < columns.Length; i++)
        {
            var column = new TableColumn(new Text(columns[i]));
            table.AddColumn(i == 0 ? column.LeftAligned() : column.RightAligned());
        }

        return table;
    }

    /// <summary>Adds a row of plain-text cells (no markup is interpreted).</summary>
    public static void AddTextRow(this Table table, params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != table.Columns.Count)
        {
            throw new ArgumentException($"{cells.Length} cells for {table.Columns.Count} columns", nameof(cells));
        }

        var row = new Text[cells.Length];
        for (int i = 0; i < cells.Length; i++)
        {
            row[i] = new Text(cells[i]);
        }

        table.AddRow(row);
    }

    /// <summary>Writes <paramref name="table"/> to <paramref name="writer"/>.</summary>
    public static void Write(TextWriter writer, Table table)
    {
        ArgumentNullException.ThrowIfNull(table);
        ConsoleFor(writer).Write(table);
        writer.Flush();
    }
}
