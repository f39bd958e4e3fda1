using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>Checks every page gets: it fits a phone, and it speaks Spanish.</summary>
public static class PageChecks
{
    /// <summary>
    /// English words that would betray an untranslated label. "Error" and "Email" are left out on purpose: both are
    /// also correct Spanish.
    /// </summary>
    public static readonly Regex English = new(@"\b(" + string.Join("|", new[]
    {
        "Login", "Log in", "Logout", "Log out", "Sign in", "Sign up", "Sign out", "Submit", "Password", "Username", "Forgot",
        "Dashboard", "Settings", "Cancel", "Next", "Back", "Previous", "Loading", "Continue", "Pay", "Home", "Plans",
        "Pricing", "Welcome", "Thank you", "Status", "Ready", "Company", "Subdomain", "Country", "Choose", "Get started",
        "Account", "Required", "Dark mode", "Light mode", "Skip to content", "per month", "Not found", "Verify", "Save",
    }.Select(Regex.Escape)) + @")\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>
    /// Numbers written outside the one style every page uses (src/Grains.Interfaces/Es.cs): a decimal point ("4.9 GiB",
    /// "49.00"), a comma between thousands ("1,234"), four digits grouped ("1.234"), a dollar sign in front ("$49"), a
    /// percent or a unit glued to its number ("42%", "4GiB"), English units ("2 cores"). Dotted quads (IP addresses) and
    /// times ("21:35"), versions and file names are not numbers of this kind and are left alone.
    /// </summary>
    public static IEnumerable<string> NonSpanishNumbers(string text) =>
        NumberStyles.SelectMany(style => style.Matches(text).Select(m => $"\"{Around(text, m)}\" ({style})"));

    private static readonly Regex[] NumberStyles =
    [
        // A version ("Odoo 18.0") or a file name ("debian-12-standard_12.7-1_amd64") is a name, not a quantity.
        new(@"(?<![\d.,_/-])(?<!Odoo\s)\d+\.\d{1,2}(?![\d._/-])"),
        new(@"(?<![\d.,])[1-9]\d{0,2}(,\d{3})+(?![\d,])"),
        new(@"(?<![\d.,])\d\.\d{3}(?![\d.,])"),
        new(@"(?<![A-Za-z])\$\s?\d"),
        new(@"\d(%|GiB|MiB|GB|MB|KiB|TiB)"),
        new(@"\d\s?(cores?|vCPUs?)\b", RegexOptions.IgnoreCase),
    ];

    private static string Around(string text, Match m)
    {
        var start = Math.Max(0, m.Index - 20);
        var end = Math.Min(text.Length, m.Index + m.Length + 20);
        return System.Text.RegularExpressions.Regex.Replace(text[start..end], @"\s+", " ").Trim();
    }

    /// <summary>Empty when the page fits its viewport's width; otherwise what overflows.</summary>
    public static Task<string> OverflowAsync(IPage page) => page.EvaluateAsync<string>("""
        () => {
          const root = document.documentElement;
          if (root.scrollWidth <= root.clientWidth) return "";
          const wide = [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > root.clientWidth + 0.5)
            .slice(0, 5)
            .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).replace(/ +/g, ".") : ""));
          return "scrollWidth " + root.scrollWidth + " > clientWidth " + root.clientWidth + "; widest: " + wide.join(", ");
        }
        """);

    /// <summary>
    /// Visible text, plus the words a screen reader or a tooltip shows and the values forms are filled with ("0,8" in
    /// a settings field is a number on the page too): they are UI. Text inside code elements is data shown as it is
    /// (audit details, Proxmox UPIDs, Stripe ids), not labels, so it is left out; so are URL, e-mail and password fields.
    /// </summary>
    public static Task<string> UiTextAsync(IPage page) => page.EvaluateAsync<string>("""
        () => [document.title,
               (() => { const c = document.body.cloneNode(true); c.querySelectorAll("code, pre, script").forEach((e) => e.remove()); return c.textContent; })(),
               ...[...document.querySelectorAll("[placeholder],[title],[aria-label],img[alt]")]
                  .flatMap((e) => [e.getAttribute("placeholder"), e.getAttribute("title"), e.getAttribute("aria-label"), e.getAttribute("alt")]),
               ...[...document.querySelectorAll("input:not([type]), input[type=text], input[type=number], textarea")].map((e) => e.value)]
          .filter(Boolean).join("\n")
        """);
}
