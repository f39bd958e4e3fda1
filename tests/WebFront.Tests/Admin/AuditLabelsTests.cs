using Sajet.WebFront.Audit;

namespace Sajet.WebFront.Tests.Admin;

/// <summary>The pure parts of the logs page: CSV fields, Spanish names, the "who" filter and readable details.</summary>
public sealed class AuditLabelsTests
{
    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData("=SUM(A1:A9)", "'=SUM(A1:A9)")]
    [InlineData("+34 600", "'+34 600")]
    [InlineData("-1", "'-1")]
    [InlineData("@cmd", "'@cmd")]
    [InlineData("\tx", "'\tx")]
    [InlineData("=HYPERLINK(\"u\",\"x\")", "\"'=HYPERLINK(\"\"u\"\",\"\"x\"\")\"")]
    [InlineData("a=b", "a=b")]
    public void Csv_Field_QuotesWhenNeeded_AndDisarmsFormulas(string? value, string expected) =>
        Assert.Equal(expected, Csv.Field(value));

    [Fact]
    public void Csv_Line_CommaSeparated_CrLf() => Assert.Equal("a,,\"b,c\"\r\n", Csv.Line("a", null, "b,c"));

    [Theory]
    [InlineData("system", "Sistema")]
    [InlineData("anonymous", "Anónimo")]
    [InlineData("reminder:step", "Recordatorio (paso de aprovisionamiento)")]
    [InlineData("reminder:nueva", "Recordatorio (nueva)")]
    [InlineData("user:42", "Usuario 42")]
    [InlineData("ana@example.com", "ana@example.com")]
    public void Actor_SystemActorsInSpanish_PeopleAsThemselves(string actor, string expected) => Assert.Equal(expected, AuditLabels.Actor(actor));

    [Theory]
    [InlineData("Sistema", "system")]
    [InlineData("anónimo", "anonymous")]
    [InlineData("Recordatorio", "reminder:%")]
    [InlineData("ana_b", "%ana\\_b%")]
    [InlineData("100%", "%100\\%%")]
    public void ActorPattern_SpanishNamesFindTheirCode_OtherTextIsASubstring(string typed, string pattern) =>
        Assert.Equal(pattern, AuditLabels.ActorPattern(typed));

    [Fact]
    public void Kind_KnownInSpanish_UnknownAsStored()
    {
        Assert.Equal("Inicio de sesión correcto", AuditLabels.Kind("auth.login_succeeded"));
        Assert.Equal("auth.something_new", AuditLabels.Kind("auth.something_new"));
        Assert.False(AuditLabels.IsKnownKind("auth.something_new"));
    }

    [Fact]
    public void Details_LabelsKeys_TranslatesKnownValues_NestsObjectsAndLists()
    {
        var fields = AuditLabels.Details("""
            {"tenant": "t-1", "role": "admin", "maintenance": true, "score": 0.5, "mystery": "x",
             "before": {"priceCents": 4900}, "nodes": [{"node": "pve1", "eligible": false}], "empty": []}
            """);
        Assert.Equal(["Cliente", "Rol", "Mantenimiento", "Puntuación", "mystery", "Antes", "nodes", "empty"], fields.Select(f => f.Label));
        Assert.Equal("/admin/tenants/t-1", fields[0].Href);
        Assert.Equal("administrador", fields[1].Text);
        Assert.Equal("sí", fields[2].Text);
        Assert.Equal("0.5", fields[3].Code);
        Assert.False(fields[4].KnownKey);
        Assert.Equal("x", fields[4].Code);
        Assert.Equal("Precio (centavos)", fields[5].Children.Single().Label);
        Assert.Equal("4900", fields[5].Children.Single().Code);
        var node = fields[6].Children.Single();
        Assert.Equal("1", node.Label);
        Assert.Equal(["Nodo", "Apto"], node.Children.Select(c => c.Label));
        Assert.Equal("no", node.Children[1].Text);
        Assert.Equal("ninguno", fields[7].Text);
        Assert.Empty(AuditLabels.Details("{}"));
        Assert.Empty(AuditLabels.Details((string?)null));
    }
}
