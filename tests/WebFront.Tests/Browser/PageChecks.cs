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
    /// Visible text, plus the words a screen reader or a tooltip shows: they are UI too. Text inside code elements
    /// is data shown as it is (audit details, Proxmox UPIDs, Stripe ids), not labels, so it is left out.
    /// </summary>
    public static Task<string> UiTextAsync(IPage page) => page.EvaluateAsync<string>("""
        () => [document.title,
               (() => { const c = document.body.cloneNode(true); c.querySelectorAll("code, pre, script").forEach((e) => e.remove()); return c.textContent; })(),
               ...[...document.querySelectorAll("[placeholder],[title],[aria-label],img[alt]")]
                  .flatMap((e) => [e.getAttribute("placeholder"), e.getAttribute("title"), e.getAttribute("aria-label"), e.getAttribute("alt")])]
          .filter(Boolean).join("\n")
        """);
}
