using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sajet.Simulators.Proxmox;

/// <summary>
/// A Proxmox VE 9.1 cluster behind the real REST API (`/api2/json`) on loopback, over HTTPS with a
/// self-signed certificate and over plain HTTP, plus the `/_sim` control API for fault injection.
/// </summary>
public sealed partial class ProxmoxSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping;

    private ProxmoxSimulator(WebApplication app, CancellationTokenSource stopping, ProxmoxCluster cluster, Uri httpUrl, Uri httpsUrl, string tokenId, string tokenSecret, string fingerprint)
    {
        _app = app;
        _stopping = stopping;
        Cluster = cluster;
        HttpUrl = httpUrl;
        HttpsUrl = httpsUrl;
        TokenId = tokenId;
        TokenSecret = tokenSecret;
        CertificateFingerprint = fingerprint;
    }

    /// <summary>Base URL without the `/api2/json` suffix, e.g. http://127.0.0.1:8005.</summary>
    public Uri HttpUrl { get; }

    public Uri HttpsUrl { get; }

    /// <summary>`USER@REALM!TOKENID`.</summary>
    public string TokenId { get; }

    public string TokenSecret { get; }

    public string AuthorizationHeaderValue => $"PVEAPIToken={TokenId}={TokenSecret}";

    /// <summary>SHA-256 of the HTTPS certificate in PVE's form: uppercase hex pairs joined by colons.</summary>
    public string CertificateFingerprint { get; }

    public ProxmoxCluster Cluster { get; }

    public static async Task<ProxmoxSimulator> StartAsync(ProxmoxSimulatorOptions options, CancellationToken ct = default)
    {
        var (tokenId, tokenSecret) = ParseToken(options.Token ?? $"sajet@pve!sim={Guid.NewGuid()}");
        var cluster = new ProxmoxCluster(options, tokenId);
        var certificate = CreateCertificate(cluster.NodeNames);
        var fingerprint = FormatFingerprint(certificate.GetCertHash(HashAlgorithmName.SHA256));
        cluster.CertificateFingerprint = fingerprint;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var address = IPAddress.Parse(options.BindAddress);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // pve-api-daemon speaks HTTP/1.1 only; HTTP/1 is also what carries the reason phrase.
            kestrel.Listen(address, options.HttpPort, l => l.Protocols = HttpProtocols.Http1);
            kestrel.Listen(address, options.HttpsPort, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                l.UseHttps(certificate);
            });
        });

        var stopping = new CancellationTokenSource();
        var app = builder.Build();
        var pve = new PveHttp(cluster, options, tokenId, tokenSecret, app.Logger, stopping.Token);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/_sim", StringComparison.Ordinal))
            {
                await next(context);
            }
            else
            {
                await pve.HandleAsync(context);
            }
        });
        app.MapSimulatorControl(cluster);
        await app.StartAsync(ct);

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        return new ProxmoxSimulator(
            app,
            stopping,
            cluster,
            addresses.First(a => a.Scheme == Uri.UriSchemeHttp),
            addresses.First(a => a.Scheme == Uri.UriSchemeHttps),
            tokenId,
            tokenSecret,
            fingerprint);
    }

    /// <summary>Entry used by `dotnet run --project src/Simulators -- proxmox [--http-port=N] [--https-port=N] [--nodes=N] [--seed=N] [--task-scale=X]`.</summary>
    public static async Task<IAsyncDisposable> StartFromCommandLineAsync(string[] args, TextWriter output, CancellationToken ct)
    {
        var options = new ProxmoxSimulatorOptions { Token = Environment.GetEnvironmentVariable("SAJET_SIM_PVE_TOKEN") };
        foreach (var arg in args)
        {
            var m = OptionArgument().Match(arg);
            if (!m.Success)
            {
                throw new ArgumentException($"unrecognised argument '{arg}'", nameof(args));
            }

            var value = m.Groups[2].Value;
            switch (m.Groups[1].Value)
            {
                case "http-port": options.HttpPort = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "https-port": options.HttpsPort = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "nodes": options.NodeCount = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "seed": options.Seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "task-scale": options.TaskDurationScale = double.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option '--{m.Groups[1].Value}'", nameof(args));
            }
        }

        var sim = await StartAsync(options, ct);
        output.WriteLine($"Proxmox VE simulator: nodes {string.Join(", ", sim.Cluster.NodeNames)}");
        output.WriteLine($"  https  {sim.HttpsUrl}api2/json  (fingerprint {sim.CertificateFingerprint})");
        output.WriteLine($"  http   {sim.HttpUrl}api2/json");
        output.WriteLine($"  control {sim.HttpUrl}_sim/state");
        // A developer needs the secret to call the API; when it came from the environment they already have it.
        output.WriteLine(options.Token is null
            ? $"  token  {sim.TokenId}={sim.TokenSecret}"
            : $"  token  {sim.TokenId} (secret from SAJET_SIM_PVE_TOKEN)");
        return sim;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        Cluster.AbortAllTasks();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    internal static string FormatFingerprint(byte[] hash) => string.Join(':', hash.Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));

    private static (string Id, string Secret) ParseToken(string token)
    {
        var m = TokenFormat().Match(token);
        if (!m.Success)
        {
            throw new ArgumentException("token must look like USER@REALM!TOKENID=SECRET", nameof(token));
        }

        return (m.Groups[1].Value, m.Groups[2].Value);
    }

    private static X509Certificate2 CreateCertificate(IEnumerable<string> nodeNames)
    {
        // PVE's pve-ssl.pem is an RSA certificate signed by the cluster CA; a self-signed RSA leaf is what clients see as untrusted just the same.
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=pve1.sajet.sim, OU=PVE Cluster Node, O=Proxmox Virtual Environment", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        foreach (var name in nodeNames)
        {
            san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(2));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    [GeneratedRegex(@"^([^\s:/@]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+)=(\S+)$")]
    private static partial Regex TokenFormat();

    [GeneratedRegex(@"^--([a-z\-]+)=(.+)$")]
    private static partial Regex OptionArgument();
}
