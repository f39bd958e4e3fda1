using System.Runtime.CompilerServices;
using Microsoft.Playwright;

namespace Sajet.WebFront.Tests.Browser;

/// <summary>
/// A screenshot per page visited, in artifacts/screenshots/&lt;test&gt;/&lt;step&gt;.png under the repository root, so a
/// person can look at what the browser saw (the launcher keeps artifacts/ between runs).
/// </summary>
public sealed class Screenshots
{
    private int _step;

    private Screenshots(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>Starts the test's folder afresh, so screenshots from an earlier run never pass for this one's.</summary>
    public static Screenshots For([CallerMemberName] string test = "")
    {
        var directory = Path.Combine(RepositoryRoot(), "artifacts", "screenshots", test);
        if (System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }

        System.IO.Directory.CreateDirectory(directory);
        return new Screenshots(directory);
    }

    /// <summary>The numbered prefix keeps the files in the order the pages were visited.</summary>
    public async Task TakeAsync(IPage page, string step)
    {
        _step++;
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Directory, $"{_step:00}-{step}.png"), FullPage = true });
    }

    /// <summary>The folder holding Sajet.sln, found by walking up from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sajet.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Sajet.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>Console errors and uncaught exceptions of a page (CSP violations arrive as console errors).</summary>
public sealed class PageProblems
{
    private readonly List<Problem> _problems = [];

    private PageProblems()
    {
    }

    /// <summary>Everything but the <see cref="KnownIssues"/>; a test asserts this is empty.</summary>
    public IReadOnlyList<string> Unexpected
    {
        get
        {
            lock (_problems)
            {
                return [.. _problems.Where(p => !KnownIssues.Any(known => known.Matches(p))).Select(p => p.ToString())];
            }
        }
    }

    /// <summary>
    /// Console errors the product still makes, each reported to the lead; narrow on purpose (one resource, one status)
    /// so that anything else still fails. Delete an entry once it is fixed.
    /// </summary>
    public static readonly IReadOnlyList<KnownIssue> KnownIssues =
    [
        // No favicon exists, so every page's automatic /favicon.ico request is a 404 (the Stripe simulator's too).
        new("no favicon", p => p.ResourcePath == "/favicon.ico" && p.Text.Contains("status of 404", StringComparison.Ordinal)),
    ];

    public static PageProblems Watch(IPage page)
    {
        var problems = new PageProblems();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Add(new Problem("console error", message.Text, page.Url, message.Location));
            }
        };
        page.PageError += (_, error) => problems.Add(new Problem("page error", error, page.Url, ""));
        return problems;
    }

    private void Add(Problem problem)
    {
        lock (_problems)
        {
            _problems.Add(problem);
        }
    }

    public sealed record Problem(string Kind, string Text, string PageUrl, string Location)
    {
        public string PagePath => PathOf(PageUrl);

        /// <summary>The path of the resource a console message is about (its location is "url:line:column").</summary>
        public string ResourcePath => PathOf(System.Text.RegularExpressions.Regex.Replace(Location, @":\d+:\d+$", ""));

        public override string ToString() => $"{Kind} on {PageUrl}: {Text} ({Location})";

        private static string PathOf(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.AbsolutePath : url;
    }

    public sealed record KnownIssue(string Description, Func<Problem, bool> Matches);
}
