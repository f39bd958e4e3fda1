using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;
using Npgsql;
using Sajet.Persistence.Secrets;

namespace Sajet.WebFront.Security;

/// <summary>
/// Data Protection's key ring in PostgreSQL (sql/0014), so every web front instance protects and unprotects with the same
/// keys: antiforgery tokens and protected cookies work whichever instance answers. Keys are encrypted at rest with
/// Sajet's secret (SecretProtector), like the node tokens.
/// </summary>
public static class DataProtectionKeys
{
    public const string ApplicationName = "Sajet";

    public static IServiceCollection AddSajetDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName(ApplicationName);
        // Options resolved from the container: the repository needs the data source and the encryptor the secret.
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(o =>
        {
            o.XmlRepository = new PostgresXmlRepository(sp.GetRequiredService<NpgsqlDataSource>());
            o.XmlEncryptor = new SecretXmlEncryptor(sp.GetRequiredService<SecretProtector>());
        }));
        return services;
    }
}

/// <summary>Stores each key element as a row; Data Protection only ever adds keys (revocations are new elements too).</summary>
public sealed class PostgresXmlRepository(NpgsqlDataSource db) : IXmlRepository
{
    private const string SelectSql = "SELECT xml FROM data_protection_keys ORDER BY created_at, friendly_name";

    // Two instances creating their first key at once both insert; the names are unique GUID-based, so both stay.
    private const string InsertSql = "INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@name, @xml) ON CONFLICT (friendly_name) DO NOTHING";

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var conn = db.OpenConnection();
        return [.. conn.Query<string>(SelectSql).Select(x => XElement.Parse(x))];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var conn = db.OpenConnection();
        conn.Execute(InsertSql, new { name = friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
    }
}

/// <summary>Encrypts a key's XML with Sajet's secret (AES-GCM through SecretProtector) before it is stored.</summary>
public sealed class SecretXmlEncryptor(SecretProtector secrets) : IXmlEncryptor
{
    internal const string Purpose = "data-protection-keys";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement) => new(
        new XElement("sajetEncrypted", secrets.Protect(plaintextElement.ToString(SaveOptions.DisableFormatting), Purpose)),
        typeof(SecretXmlDecryptor));
}

/// <summary>Created by Data Protection through the container when it reads a key back.</summary>
public sealed class SecretXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var bytes = services.GetRequiredService<SecretProtector>().UnprotectBytes(encryptedElement.Value, SecretXmlEncryptor.Purpose)
            ?? throw new InvalidOperationException("A Data Protection key could not be decrypted with this SAJET_SECRET_KEY.");
        return XElement.Parse(System.Text.Encoding.UTF8.GetString(bytes));
    }
}
