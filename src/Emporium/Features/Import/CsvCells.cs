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
}
