using System.Net;
using System.Text.Json;
using Sajet.WebFront.Tests.Browser;

namespace Sajet.WebFront.Tests;

/// <summary>The API's own documentation speaks Spanish and sits where the system Sajet replaces had it.</summary>
public sealed class ApiDocsTests(WebFixture fx) : IClassFixture<WebFixture>
{
    private static readonly string[] Methods = ["get", "post", "put", "patch", "delete"];

    [Fact]
    public async Task OpenApi_EveryOperation_HasASpanishSummaryAndTag()
    {
        using var doc = JsonDocument.Parse(await fx.Factory.Client().GetStringAsync("/openapi/v1.json"));
        var root = doc.RootElement;
        Assert.Equal("API de Sajet", root.GetProperty("info").GetProperty("title").GetString());

        var problems = new List<string>();
        var operations = 0;
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            foreach (var op in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name)))
            {
                operations++;
                var name = $"{op.Name.ToUpperInvariant()} {path.Name}";
                var summary = op.Value.TryGetProperty("summary", out var s) ? s.GetString() : null;
                if (string.IsNullOrWhiteSpace(summary))
                {
                    problems.Add($"{name}: no summary");
                }
                else if (PageChecks.English.Match(summary) is { Success: true } word)
                {
                    problems.Add($"{name}: English word \"{word.Value}\" in \"{summary}\"");
                }
                else if (!SpanishLetters(summary))
                {
                    problems.Add($"{name}: summary does not read as Spanish: \"{summary}\"");
                }

                var tags = op.Value.TryGetProperty("tags", out var t) ? t.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];
                if (tags.Count == 0)
                {
                    problems.Add($"{name}: no tag");
                }

                problems.AddRange(tags.Where(tag => PageChecks.English.IsMatch(tag) || tag is "Tenants" or "Nodes" or "Auth" or "Health" or "Events")
                    .Select(tag => $"{name}: tag \"{tag}\" is not Spanish"));
            }
        }

        // The API has more than twenty operations; a document that lost them would pass the loop above.
        Assert.True(operations >= 20, $"only {operations} operations in the document");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public async Task Redoc_SendsReadersToTheDocs()
    {
        var response = await fx.Factory.Client().GetAsync("/redoc");
        Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
        Assert.Equal("/docs/", response.Headers.Location?.OriginalString);
    }

    // Every summary is a Spanish sentence: it uses at least one of the small words no English sentence has.
    private static bool SpanishLetters(string text) =>
        text.Split([' ', ',', ';', ':', '.', '(', ')'], StringSplitOptions.RemoveEmptyEntries)
            .Any(w => w is "de" or "del" or "la" or "el" or "los" or "las" or "un" or "una" or "y" or "o" or "en" or "con" or "por" or "si" or "que" or "se");
}
