using System.Text;

namespace Emporium.Features.Import;

/// <summary>
/// Formula-injection neutralisation shared by the export (adds the quote) and the import (removes it), so an
/// exported file re-imports to exactly the stored values. A spreadsheet runs a cell starting with = + - @ tab or CR
/// as a formula; a leading ' makes it text. Cells that already start with quotes before such a character get one
/// more, so a stored "'=x" survives the round trip too (export "''=x", import "'=x").
/// </summary>
public static class CsvCells
{
    private static bool IsFormulaStart(char c) => c is '=' or '+' or '-' or '@' or '\t' or '\r';

    /// <summary>Whether the cell is quotes (possibly none) followed by a formula-starting character.</summary>
    private static bool LooksLikeFormula(ReadOnlySpan<char> cell)
    {
        var i = 0;
        while (i < cell.Length && cell[i] == '\'')
        {
            i++;
        }

        return i < cell.Length && IsFormulaStart(cell[i]);
    }

    public static string Neutralise(string cell) => LooksLikeFormula(cell) ? "'" + cell : cell;

    /// <summary>Removes the one quote <see cref="Neutralise"/> adds; any other cell is returned as it is.</summary>
    public static string Unneutralise(string cell) =>
        cell.Length > 1 && cell[0] == '\'' && LooksLikeFormula(cell.AsSpan(1)) ? cell[1..] : cell;

    /// <summary>Appends one neutralised cell, RFC 4180 quoted when it has a comma, quote, CR or LF (its quotes doubled).</summary>
    public static StringBuilder Append(StringBuilder line, string value)
    {
        var cell = Neutralise(value);
        if (cell.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return line.Append(cell);
        }

        return line.Append('"').Append(cell.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }

    /// <summary>One CSV line of neutralised cells (no line break).</summary>
    public static string Line(IEnumerable<string> cells)
    {
        var line = new StringBuilder();
        var first = true;
        foreach (var cell in cells)
        {
            if (!first)
            {
                line.Append(',');
            }

            Append(line, cell);
            first = false;
        }

        return line.ToString();
    }
}
