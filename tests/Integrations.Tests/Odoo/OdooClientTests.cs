using Sajet.Integrations.Odoo;
using Sajet.Simulators.Odoo;

namespace Sajet.Integrations.Tests.Odoo;

/// <summary>OdooClient against the Odoo simulator over real HTTP on 127.0.0.1 (one simulator per test).</summary>
public sealed class OdooClientTests : IAsyncLifetime
{
    private const string Master = "Sup3r-Master";
    private OdooSimulator _sim = null!;
    private HttpClient _http = null!;
    private OdooClient _client = null!;

    public async Task InitializeAsync()
    {
        _sim = await OdooSimulator.StartAsync(new OdooSimulatorOptions { Port = 0, MasterPassword = Master });
        _http = new HttpClient();
        _client = Client(Master);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sim.DisposeAsync();
    }

    [Fact]
    public async Task Versions_ReportOdoo18()
    {
        Assert.Equal("18.0", await _client.ServerVersionAsync());
        var version = await _client.VersionAsync();
        Assert.Equal("18.0", version.ServerVersion);
        Assert.Equal("18.0", version.ServerSerie);
        Assert.Equal(1, version.ProtocolVersion);
        Assert.Equal(6, version.ServerVersionInfo.Count);
    }

    [Fact]
    public async Task CreateDatabase_ThenListExistAndAuthenticateWithTheGivenCredentials()
    {
        await _client.CreateDatabaseAsync(Acme());

        Assert.Equal(["acme"], await _client.ListAsync());
        Assert.True(await _client.DbExistAsync("acme"));
        Assert.False(await _client.DbExistAsync("globex"));
        Assert.Equal(2, await _client.AuthenticateAsync("acme", "owner@acme.test", "Initial-Admin-Pw"));
        Assert.Null(await _client.AuthenticateAsync("acme", "owner@acme.test", "wrong"));
        Assert.Null(await _client.AuthenticateAsync("acme", "admin", "admin"));
        var db = Assert.Single(_sim.Control.Databases);
        Assert.Equal(("es_ES", "ES", "+34 600 000 000"), (db.Lang, db.CountryCode, db.Phone));
    }

    [Fact]
    public async Task SetOwnPassword_ThroughTheObjectService_OldOneStopsWorking_WrongCurrentRefused()
    {
        await _client.CreateDatabaseAsync(Acme());

        // res.users.write on the administrator's own record, as the user, the way Odoo's preferences dialog does it.
        await _client.SetOwnPasswordAsync("acme", 2, "Initial-Admin-Pw", "Chosen-By-The-Customer");
        Assert.Equal(2, await _client.AuthenticateAsync("acme", "owner@acme.test", "Chosen-By-The-Customer"));
        Assert.Null(await _client.AuthenticateAsync("acme", "owner@acme.test", "Initial-Admin-Pw"));

        var ex = await Assert.ThrowsAsync<OdooException>(() => _client.SetOwnPasswordAsync("acme", 2, "Initial-Admin-Pw", "Another"));
        Assert.True(ex.IsAccessDenied);
        Assert.Equal(2, await _client.AuthenticateAsync("acme", "owner@acme.test", "Chosen-By-The-Customer"));
    }

    [Fact]
    public async Task CreateDatabase_NameTaken_ThrowsDatabaseExists()
    {
        await _client.CreateDatabaseAsync(Acme());
        var ex = await Assert.ThrowsAsync<OdooException>(() => _client.CreateDatabaseAsync(Acme()));
        Assert.True(ex.IsDatabaseExists);
        Assert.Equal("database 'acme' already exists!", ex.Message);
        Assert.Equal(200, ex.Code);
        Assert.Contains("Traceback", ex.Debug, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitFailedTrap_CreateReturnsTrueButAuthenticateDetectsIt()
    {
        _sim.Control.FailNextCreateInit();

        await _client.CreateDatabaseAsync(Acme());

        Assert.True(await _client.DbExistAsync("acme"));
        Assert.Null(await _client.AuthenticateAsync("acme", "owner@acme.test", "Initial-Admin-Pw"));

        // Only that one creation was affected.
        await _client.CreateDatabaseAsync(Acme("globex"));
        Assert.Equal(2, await _client.AuthenticateAsync("globex", "owner@acme.test", "Initial-Admin-Pw"));
    }

    [Fact]
    public async Task MasterPassword_IsCheckedBeforeListDbAndBeforeTheOperation()
    {
        await _client.CreateDatabaseAsync(Acme());
        var wrong = Client("not-the-master");

        // Wrong password wins over "already exists".
        var ex = await Assert.ThrowsAsync<OdooException>(() => wrong.CreateDatabaseAsync(Acme()));
        Assert.True(ex.IsAccessDenied);
        Assert.Equal("Access Denied", ex.Message);

        // Empty password is refused too.
        Assert.True((await Assert.ThrowsAsync<OdooException>(() => Client("").DropAsync("acme"))).IsAccessDenied);

        // With list_db off even the right password is refused, before the name check.
        _sim.Control.ListDb = false;
        Assert.True((await Assert.ThrowsAsync<OdooException>(() => _client.CreateDatabaseAsync(Acme()))).IsAccessDenied);
        Assert.True((await Assert.ThrowsAsync<OdooException>(() => _client.ListAsync())).IsAccessDenied);
        Assert.True(await _client.DbExistAsync("acme"));

        // Back on: now the operation itself decides.
        _sim.Control.ListDb = true;
        Assert.True((await Assert.ThrowsAsync<OdooException>(() => _client.CreateDatabaseAsync(Acme()))).IsDatabaseExists);
    }

    [Fact]
    public async Task DuplicateDatabase_CopiesCredentials_AndReportsAMissingSource()
    {
        await _client.CreateDatabaseAsync(Acme("template_saas"));

        await _client.DuplicateDatabaseAsync("template_saas", "acme", neutralize: true);

        Assert.Equal(["acme", "template_saas"], await _client.ListAsync());
        Assert.Equal(2, await _client.AuthenticateAsync("acme", "owner@acme.test", "Initial-Admin-Pw"));
        var ex = await Assert.ThrowsAsync<OdooException>(() => _client.DuplicateDatabaseAsync("nope", "other"));
        Assert.Equal("psycopg2.errors.InvalidCatalogName", ex.Name);
        Assert.Contains("\"nope\" does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Equal("psycopg2.errors.DuplicateDatabase",
            (await Assert.ThrowsAsync<OdooException>(() => _client.DuplicateDatabaseAsync("template_saas", "acme"))).Name);
    }

    [Fact]
    public async Task Drop_TrueThenFalse()
    {
        await _client.CreateDatabaseAsync(Acme());
        Assert.True(await _client.DropAsync("acme"));
        Assert.False(await _client.DropAsync("acme"));
        Assert.Empty(await _client.ListAsync());
    }

    [Fact]
    public async Task Authenticate_UnknownDatabase_IsAnOdooError()
    {
        var ex = await Assert.ThrowsAsync<OdooException>(() => _client.AuthenticateAsync("ghost", "admin", "admin"));
        Assert.Equal("psycopg2.OperationalError", ex.Name);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("-acme")]
    [InlineData("acme corp")]
    [InlineData("acme/../x")]
    [InlineData("ácme")]
    [InlineData("")]
    public async Task InvalidNames_AreRejectedBeforeAnythingIsSent(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _client.CreateDatabaseAsync(Acme(name)));
        await Assert.ThrowsAsync<ArgumentException>(() => _client.DuplicateDatabaseAsync("acme", name));
        Assert.Empty(_sim.Control.Calls);
    }

    [Fact]
    public void DatabaseNames_FollowTheWebFormRuleAnd63Bytes()
    {
        Assert.True(OdooClient.IsValidDatabaseName("acme"));
        Assert.True(OdooClient.IsValidDatabaseName("acme_2.prod-1"));
        Assert.True(OdooClient.IsValidDatabaseName(new string('a', 63)));
        Assert.False(OdooClient.IsValidDatabaseName(new string('a', 64)));
        Assert.False(OdooClient.IsValidDatabaseName(".acme"));
    }

    [Fact]
    public async Task ErrorRate_One_FailsThatMethodOnly()
    {
        _sim.Control.SetErrorRate("list", 1);
        var ex = await Assert.ThrowsAsync<OdooException>(() => _client.ListAsync());
        Assert.Equal("psycopg2.OperationalError", ex.Name);
        Assert.Equal("18.0", await _client.ServerVersionAsync());

        _sim.Control.SetErrorRate("list", 0);
        Assert.Empty(await _client.ListAsync());
    }

    [Fact]
    public async Task CreateDelay_LongerThanTheClientTimeout_IsATransportError()
    {
        _sim.Control.CreateDelay = TimeSpan.FromMinutes(1);
        var impatient = new OdooClient(_http, new OdooClientOptions { BaseUrl = _sim.BaseUrl, MasterPassword = Master, Timeout = TimeSpan.FromMilliseconds(200) });

        var ex = await Assert.ThrowsAsync<OdooTransportException>(() => impatient.CreateDatabaseAsync(Acme()));
        Assert.Null(ex.HttpStatus);
    }

    [Fact]
    public async Task Down_BadGateway_ThenConnectionRefused_ThenUpWithDataKept()
    {
        await _client.CreateDatabaseAsync(Acme());

        await _sim.Control.GoDownAsync(OdooDownMode.BadGateway);
        Assert.Equal(502, (await Assert.ThrowsAsync<OdooTransportException>(() => _client.ListAsync())).HttpStatus);

        await _sim.Control.GoDownAsync(OdooDownMode.ConnectionRefused);
        var refused = await Assert.ThrowsAsync<OdooTransportException>(() => _client.ListAsync());
        Assert.IsType<HttpRequestException>(refused.InnerException);

        await _sim.Control.ComeUpAsync();
        Assert.Equal(["acme"], await _client.ListAsync());
    }

    [Fact]
    public async Task Reset_ForgetsDatabasesAndSwitches()
    {
        await _client.CreateDatabaseAsync(Acme());
        _sim.Control.ListDb = false;
        _sim.Control.Reset();
        Assert.Empty(await _client.ListAsync());
    }

    private OdooClient Client(string master) =>
        new(_http, new OdooClientOptions { BaseUrl = _sim.BaseUrl, MasterPassword = master, Timeout = TimeSpan.FromSeconds(30) });

    private static OdooCreateDatabaseRequest Acme(string name = "acme") => new()
    {
        Name = name,
        Demo = false,
        Lang = "es_ES",
        AdminPassword = "Initial-Admin-Pw",
        Login = "owner@acme.test",
        CountryCode = "ES",
        Phone = "+34 600 000 000",
    };
}
