using System.Text.RegularExpressions;

namespace Sajet.Integrations.Proxmox;

/// <summary>
/// Where a Proxmox VE API lives and how to authenticate to it with an API token.
/// Certificate trust is explicit: a pinned SHA-256 <see cref="Fingerprint"/> (PVE's colon-separated hex,
/// or without colons) wins over the CA chain; otherwise the chain must validate unless <see cref="Insecure"/>.
/// </summary>
public sealed partial record ProxmoxConnection
{
    public ProxmoxConnection(Uri baseUrl, string tokenId, string tokenSecret)
    {
        BaseUrl = baseUrl;
        TokenId = tokenId;
        TokenSecret = tokenSecret;
    }

    /// <summary>Scheme, host and port, e.g. https://pve1.example.net:8006; `/api2/json` is added by the client.</summary>
    public Uri BaseUrl
    {
        get;
        init => field = value.IsAbsoluteUri && (value.Scheme == Uri.UriSchemeHttps || value.Scheme == Uri.UriSchemeHttp)
            ? value
            : throw new ArgumentException($"Proxmox base URL '{value}' must be an absolute http(s) URL", nameof(BaseUrl));
    }

    /// <summary>`USER@REALM!TOKENID`, e.g. `provisioner@pve!sajet`.</summary>
    public string TokenId
    {
        get;
        init => field = TokenIdFormat().IsMatch(value)
            ? value
            : throw new ArgumentException($"Proxmox token id '{value}' must look like USER@REALM!TOKENID (e.g. provisioner@pve!sajet); the TOKENID part starts with a letter", nameof(TokenId));
    }

    public string TokenSecret
    {
        get;
        init => field = string.IsNullOrWhiteSpace(value) || value.Contains('=', StringComparison.Ordinal)
            ? throw new ArgumentException("Proxmox token secret must be the UUID shown when the token was created", nameof(TokenSecret))
            : value;
    }

    /// <summary>SHA-256 fingerprint of the server certificate to pin, as `AB:CD:...` or `abcd...`.</summary>
    public string? Fingerprint
    {
        get;
        init => field = value is null ? null : NormaliseFingerprint(value);
    }

    /// <summary>Accept any server certificate. Only for lab setups; prefer <see cref="Fingerprint"/>.</summary>
    public bool Insecure { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Returns the fingerprint as 64 uppercase hex digits without separators.</summary>
    public static string NormaliseFingerprint(string fingerprint)
    {
        var hex = fingerprint.Replace(":", "", StringComparison.Ordinal).Trim().ToUpperInvariant();
        return HexSha256().IsMatch(hex)
            ? hex
            : throw new ArgumentException("certificate fingerprint must be a SHA-256 digest: 32 hex pairs, optionally colon-separated", nameof(fingerprint));
    }

    // The secret stays out of ToString so connections can be logged.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"BaseUrl = {BaseUrl}, TokenId = {TokenId}, Fingerprint = {Fingerprint}, Insecure = {Insecure}, Timeout = {Timeout}");
        return true;
    }

    [GeneratedRegex(@"^[^\s:/@]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]*$")]
    private static partial Regex TokenIdFormat();

    [GeneratedRegex("^[0-9A-F]{64}$")]
    private static partial Regex HexSha256();
}
