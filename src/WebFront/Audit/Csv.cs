using System.Text;

namespace Sajet.WebFront.Audit;

/// <summary>
/// CSV as RFC 4180 writes it (comma-separated, CRLF lines, a field quoted when it holds a quote, comma or line break,
/// its quotes doubled), with one guard more: a field a spreadsheet would run as a formula (starting with = + - @, a
/// tab or a carriage return) gets a leading apostrophe, so an attacker's "=HYPERLINK(…)" in a login name stays text.
/// </summary>
public static class Csv
{
    private static readonly char[] NeedsQuotes = ['"', ',', '\r', '\n'];

    public static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny(NeedsQuotes) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    public static string Line(params string?[] fields)
    {
        var line = new StringBuilder();
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            line.Append(Field(fields[i]));
        }

        return line.Append("\r\n").ToString();
    }
}
