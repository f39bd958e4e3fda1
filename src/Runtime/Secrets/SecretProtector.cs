using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Sajet.Runtime.Secrets;

/// <summary>
/// Encrypts secrets at rest (Proxmox token secrets, TOTP seeds) with AES-256-GCM. The key is derived with HKDF from
/// <c>SAJET_SECRET_KEY</c> (or <c>JWT_SECRET_KEY</c> when that is all there is) and a purpose, so one leaked
/// ciphertext kind cannot be replayed as another. Layout: version (1) · nonce (12) · tag (16) · ciphertext.
/// </summary>
public sealed class SecretProtector
{
    private const byte Version = 1;
    private readonly byte[] _master;

    public SecretProtector(string masterSecret)
    {
        if (string.IsNullOrEmpty(masterSecret) || masterSecret.Length < 16)
        {
            throw new ArgumentException("The secret key must be at least 16 characters (set SAJET_SECRET_KEY).", nameof(masterSecret));
        }

        _master = Encoding.UTF8.GetBytes(masterSecret);
    }

    public static SecretProtector FromConfiguration(IConfiguration configuration) =>
        new(configuration["SAJET_SECRET_KEY"] is { Length: > 0 } k ? k
            : configuration["JWT_SECRET_KEY"] is { Length: > 0 } j ? j
            : throw new InvalidOperationException("Set SAJET_SECRET_KEY (or JWT_SECRET_KEY): secrets at rest are encrypted with it."));

    public byte[] Protect(string plaintext, string purpose)
    {
        var key = Key(purpose);
        var data = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[1 + 12 + 16 + data.Length];
        output[0] = Version;
        var nonce = output.AsSpan(1, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(nonce, data, output.AsSpan(29), output.AsSpan(13, 16), Encoding.UTF8.GetBytes(purpose));
        return output;
    }

    public string Unprotect(byte[] protectedData, string purpose)
    {
        if (protectedData.Length < 29 || protectedData[0] != Version)
        {
            throw new CryptographicException("Unknown secret format");
        }

        var key = Key(purpose);
        var plain = new byte[protectedData.Length - 29];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(protectedData.AsSpan(1, 12), protectedData.AsSpan(29), protectedData.AsSpan(13, 16), plain, Encoding.UTF8.GetBytes(purpose));
        return Encoding.UTF8.GetString(plain);
    }

    private byte[] Key(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _master, 32, salt: "sajet.secrets.v1"u8.ToArray(), info: Encoding.UTF8.GetBytes(purpose));
}
