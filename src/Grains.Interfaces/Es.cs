using System.Globalization;

namespace Sajet.Grains.Interfaces;

/// <summary>
/// Numbers, money and sizes as Spanish (es-ES) writes them, the one style of every page: decimal comma, a point
/// between thousands from five digits on (1234, 12.345), a space before units and the percent sign, "49,00 US$".
/// Silos and the web front run globalization-invariant (no culture data ships in the image), so the convention is written here
/// rather than taken from CultureInfo("es-ES"). Browsers format with their own es-ES data (toLocaleString), which
/// agrees with this.
/// </summary>
public static class Es
{
    private const char Nbsp = '\u00a0';

    /// <summary><paramref name="value"/> with at most <paramref name="decimals"/> decimals, or exactly that many when <paramref name="fixedDecimals"/>.</summary>
    public static string Number(decimal value, int decimals = 0, bool fixedDecimals = false)
    {
        var rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        var format = decimals == 0 ? "0" : "0." + new string(fixedDecimals ? '0' : '#', decimals);
        var text = Math.Abs(rounded).ToString(format, CultureInfo.InvariantCulture);
        var point = text.IndexOf('.');
        var whole = point < 0 ? text : text[..point];
        var fraction = point < 0 ? "" : "," + text[(point + 1)..];
        if (whole.Length >= 5)
        {
            var grouped = new System.Text.StringBuilder();
            for (var i = 0; i < whole.Length; i++)
            {
                if (i > 0 && (whole.Length - i) % 3 == 0)
                {
                    grouped.Append('.');
                }

                grouped.Append(whole[i]);
            }

            whole = grouped.ToString();
        }

        return (rounded < 0 ? "-" : "") + whole + fraction;
    }

    public static string Number(double value, int decimals = 0) =>
        double.IsFinite(value) ? Number((decimal)value, decimals) : "—";

    /// <summary>Dollar amounts from cents: "49,00 US$", as es-ES writes a currency that is not its own.</summary>
    public static string Usd(long cents) => Number(cents / 100m, 2, fixedDecimals: true) + Nbsp + "US$";

    /// <summary>A fraction (0.42) as "42 %".</summary>
    public static string Percent(double fraction) => double.IsFinite(fraction) ? Number(fraction * 100) + Nbsp + "%" : "—";

    /// <summary>Bytes in binary gigabytes, one decimal: "4,9 GiB".</summary>
    public static string Gib(long bytes) => Number(bytes / 1073741824m, 1) + Nbsp + "GiB";

    /// <summary>Memory given in MiB: GiB from 1 GiB up ("4 GiB"), MiB below ("512 MiB").</summary>
    public static string MemoryMb(long mb) => mb >= 1024 ? Number(mb / 1024m, 1) + Nbsp + "GiB" : Number((decimal)mb) + Nbsp + "MiB";

    /// <summary>Disk given in GiB (Proxmox sizes volumes in GiB): "50 GiB".</summary>
    public static string DiskGb(long gb) => Number((decimal)gb) + Nbsp + "GiB";

    /// <summary>"1 núcleo", "2 núcleos".</summary>
    public static string Cores(long cores) => Number((decimal)cores) + Nbsp + (cores == 1 ? "núcleo" : "núcleos");

    /// <summary>A plan id or name as a title: "basic" → "Basic".</summary>
    public static string Title(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name[1..];
}
