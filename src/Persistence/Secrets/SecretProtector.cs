using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Sajet.Persistence.Secrets;

/// <summary>
/// Encrypts small secrets for storage in PostgreSQL (TOTP seeds, Proxmox API token secrets) with AES-256-GCM.
/// The key is derived with HKDF from the configured secret (SAJET_SECRET_KEY, else JWT_SECRET_KEY), so a
/// database dump alone reveals nothing. The purpose string is authenticated data: a value protected for one
/// purpose (say "totp:42") cannot be replayed into another row or feature.
/// Shared by the web front (TOTP seeds) and the silo (Proxmox token secrets, tenant Odoo passwords).
/// </summary>
public sealed class SecretProtector
{
    public const int MinimumSecretLength = 32;
    private const string Prefix = "v1.";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _encryptionKey;
    private readonly byte[] _root;

    public SecretProtector(string secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < MinimumSecretLength)
        {
            throw new ArgumentException($"The secret key must be at least {MinimumSecretLength} characters long.", nameof(secret));
        }

        _root = Encoding.UTF8.GetBytes(secret);
        _encryptionKey = DeriveKey("secret-protector/v1");
    }

    /// <summary>The configured root secret: SAJET_SECRET_KEY when set, else JWT_SECRET_KEY.</summary>
    public static string? SecretFrom(IConfiguration configuration) =>
        configuration["SAJET_SECRET_KEY"] is { Length: > 0 } own ? own : configuration["JWT_SECRET_KEY"];

    public static SecretProtector FromConfiguration(IConfiguration configuration) =>
        new(SecretFrom(configuration) ?? throw new InvalidOperationException("Set SAJET_SECRET_KEY (or JWT_SECRET_KEY): secrets at rest are encrypted with it."));

    /// <summary>A 256-bit key for one purpose, independent of every other purpose's key.</summary>
    public byte[] DeriveKey(string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _root, 32, Encoding.UTF8.GetBytes("sajet"), Encoding.UTF8.GetBytes("sajet/" + purpose));

    public string Protect(string plaintext, string purpose) => Protect(Encoding.UTF8.GetBytes(plaintext), purpose);

    public string Protect(ReadOnlySpan<byte> plaintext, string purpose) => Prefix + Convert.ToBase64String(Seal(plaintext, purpose));

    /// <summary>The raw sealed blob (nonce, ciphertext, tag) without the text prefix, for values that travel in URLs.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, string purpose)
    {
        var blob = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = blob.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_encryptionKey, TagSize);
        aes.Encrypt(nonce, plaintext, blob.AsSpan(NonceSize, plaintext.Length), blob.AsSpan(NonceSize + plaintext.Length), Encoding.UTF8.GetBytes(purpose));
        return blob;
    }

    /// <summary>Decrypts a value; null when it was tampered with, protected for another purpose or under another key.</summary>
    public byte[]? UnprotectBytes(string protectedValue, string purpose)
    {
        if (!protectedValue.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(protectedValue[Prefix.Length..]);
        }
        catch (FormatException)
        {
            return null;
        }

        return Open(blob, purpose);
    }

    /// <summary>Opens what <see cref="Seal"/> made; null when tampered with or sealed for another purpose or key.</summary>
    public byte[]? Open(ReadOnlySpan<byte> blob, string purpose)
    {
        if (blob.Length < NonceSize + TagSize)
        {
            return null;
        }

        var plaintext = new byte[blob.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_encryptionKey, TagSize);
        try
        {
            aes.Decrypt(blob[..NonceSize], blob.Slice(NonceSize, plaintext.Length), blob[(NonceSize + plaintext.Length)..], plaintext, Encoding.UTF8.GetBytes(purpose));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return plaintext;
    }

    /// <summary>The protected form as bytes, for bytea columns.</summary>
    public byte[] ProtectToBytes(string plaintext, string purpose) => Encoding.UTF8.GetBytes(Protect(plaintext, purpose));

    /// <summary>Decrypts what <see cref="ProtectToBytes"/> made; null when tampered with or protected otherwise.</summary>
    public string? Unprotect(byte[] protectedBytes, string purpose) => Unprotect(Encoding.UTF8.GetString(protectedBytes), purpose);

    public string? Unprotect(string protectedValue, string purpose) =>
        UnprotectBytes(protectedValue, purpose) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;
}
