using System;

namespace Mnist;

/// <summary>
/// A tiny built-in 5 x 7 bitmap font: A-Z (lowercase draws as uppercase), 0-9, space and
/// <c>: . % / - ? ( ) = + _ ! ,</c>. Unknown characters draw as '?'.
/// </summary>
public static class Font5x7
{
    public const int GlyphWidth = 5;
    public const int GlyphHeight = 7;

    /// <summary>Horizontal advance per character (glyph plus one blank column), in font pixels.</summary>
    public const int Advance = GlyphWidth + 1;

    // Each glyph: 7 rows of 5 columns separated by '|', '#' = ink.
    private static readonly (char C, string Rows)[] Glyphs =
    [
        ('0', " ### |#   #|#  ##|# # #|##  #|#   #| ### "),
        ('1', "  #  | ##  |  #  |  #  |  #  |  #  | ### "),
        ('2', " ### |#   #|    #|   # |  #  | #   |#####"),
        ('3', "#####|   # |  #  |   # |    #|#   #| ### "),
        ('4', "   # |  ## | # # |#  # |#####|   # |   # "),
        ('5', "#####|#    |#### |    #|    #|#   #| ### "),
        ('6', "  ## | #   |#    |#### |#   #|#   #| ### "),
        ('7', "#####|    #|   # |  #  | #   | #   | #   "),
        ('8', " ### |#   #|#   #| ### |#   #|#   #| ### "),
        ('9', " ### |#   #|#   #| ####|    #|   # | ##  "),
        ('A', " ### |#   #|#   #|#####|#   #|#   #|#   #"),
        ('B', "#### |#   #|#   #|#### |#   #|#   #|#### "),
        ('C', " ### |#   #|#    |#    |#    |#   #| ### "),
        ('D', "###  |#  # |#   #|#   #|#   #|#  # |###  "),
        ('E', "#####|#    |#    |#### |#    |#    |#####"),
        ('F', "#####|#    |#    |#### |#    |#    |#    "),
        ('G', " ### |#   #|#    |# ###|#   #|#   #| ####"),
        ('H', "#   #|#   #|#   #|#####|#   #|#   #|#   #"),
        ('I', " ### |  #  |  #  |  #  |  #  |  #  | ### "),
        ('J', "  ###|   # |   # |   # |   # |#  # | ##  "),
        ('K', "#   #|#  # |# #  |##   |# #  |#  # |#   #"),
        ('L', "#    |#    |#    |#    |#    |#    |#####"),
        ('M', "#   #|## ##|# # #|# # #|#   #|#   #|#   #"),
        ('N', "#   #|#   #|##  #|# # #|#  ##|#   #|#   #"),
        ('O', " ### |#   #|#   #|#   #|#   #|#   #| ### "),
        ('P', "#### |#   #|#   #|#### |#    |#    |#    "),
        ('Q', " ### |#   #|#   #|#   #|# # #|#  # | ## #"),
        ('R', "#### |#   #|#   #|#### |# #  |#  # |#   #"),
        ('S', " ####|#    |#    | ### |    #|    #|#### "),
        ('T', "#####|  #  |  #  |  #  |  #  |  #  |  #  "),
        ('U', "#   #|#   #|#   #|#   #|#   #|#   #| ### "),
        ('V', "#   #|#   #|#   #|#   #|#   #| # # |  #  "),
        ('W', "#   #|#   #|#   #|# # #|# # #|# # #| # # "),
        ('X', "#   #|#   #| # # |  #  | # # |#   #|#   #"),
        ('Y', "#   #|#   #| # # |  #  |  #  |  #  |  #  "),
        ('Z', "#####|    #|   # |  #  | #   |#    |#####"),
        (' ', "     |     |     |     |     |     |     "),
        (':', "     | ##  | ##  |     | ##  | ##  |     "),
        ('.', "     |     |     |     |     | ##  | ##  "),
        (',', "     |     |     |     | ##  |  #  | #   "),
        ('%', "##   |##  #|   # |  #  | #   |#  ##|   ##"),
        ('/', "     |    #|   # |  #  | #   |#    |     "),
        ('-', "     |     |     |#####|     |     |     "),
        ('?', " ### |#   #|    #|   # |  #  |     |  #  "),
        ('(', "   # |  #  | #   | #   | #   |  #  |   # "),
        (')', " #   |  #  |   # |   # |   # |  #  | #   "),
        ('=', "     |     |#####|     |#####|     |     "),
        ('+', "     |  #  |  #  |#####|  #  |  #  |     "),
        ('_', "     |     |     |     |     |     |#####"),
        ('!', "  #  |  #  |  #  |  #  |  #  |     |  #  "),
    ];

    private static readonly ulong[] Bits = Build();

    private static readonly int QuestionIndex = Find('?');

    /// <summary>True when the glyph for <paramref name="c"/> inks font pixel (x, y).</summary>
    public static bool IsInk(char c, int x, int y)
    {
        if ((uint)x >= GlyphWidth || (uint)y >= GlyphHeight)
        {
            return false;
        }

        return ((Bits[IndexOf(c)] >> (y * GlyphWidth + x)) & 1) != 0;
    }

    public static bool IsKnown(char c) => Find(char.ToUpperInvariant(c)) >= 0;

    /// <summary>Width in font pixels of <paramref name="text"/> (no trailing blank column).</summary>
    public static int MeasureWidth(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length == 0 ? 0 : text.Length * Advance - 1;
    }

    private static int IndexOf(char c)
    {
        int i = Find(char.ToUpperInvariant(c));
        return i >= 0 ? i : QuestionIndex;
    }

    private static int Find(char c)
    {
        for (int i = 0; i < Glyphs.Length; i++)
        {
            if (Glyphs[i].C == c)
            {
                return i;
            }
        }

        return -1;
    }

    private static ulong[] Build()
    {
        var bits = new ulong[Glyphs.Length];
        for (int g = 0; g < Glyphs.Length; g++)
        {
            string[] rows = Glyphs[g].Rows.Split('|');
            if (rows.Length != GlyphHeight)
            {
                throw new InvalidOperationException($"glyph '{Glyphs[g].C}' has {rows.Length} rows");
            }

            ulong v = 0;
            for (int y = 0; y < GlyphHeight; y++)
            {
                if (rows[y].Length != GlyphWidth)
                {
                    throw new InvalidOperationException($"glyph '{Glyphs[g].C}' row {y} has {rows[y].Length} columns");
                }

                for (int x = 0; x < GlyphWidth; x++)
                {
                    if (rows[y][x] == '#')
                    {
                        v |= 1UL << (y * GlyphWidth + x);
                    }
                }
            }

            bits[g] = v;
        }

        return bits;
    }
}
