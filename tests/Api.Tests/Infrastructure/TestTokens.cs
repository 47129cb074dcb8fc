using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>
/// Access tokens shaped as Microsoft Entra ID issues them for the API (v2: issuer of the tenant,
/// audience, app roles in <c>roles</c>, <c>oid</c> and <c>sub</c>), signed by a key of the tests' own.
/// A host made with <see cref="AcceptTestTokens"/> trusts that key: it is handed the OpenID
/// configuration Entra would publish at the authority, so nothing goes to the network.
/// </summary>
public static class TestTokens
{
    public const string TenantId = "7f3c2a10-5b6d-4e8f-9a01-2b3c4d5e6f70";
    public const string Issuer = $"https://login.microsoftonline.com/{TenantId}/v2.0";
    public const string ClientId = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a";

    private static readonly RsaSecurityKey SigningKey = NewKey("test-signing-key");

    /// <summary>Entra ID on, with <see cref="TenantId"/> and <see cref="ClientId"/>, trusting the test key.</summary>
    public static void AcceptTestTokens(WebApplicationBuilder builder)
    {
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Authentication:Entra:TenantId"] = TenantId,
            ["Authentication:Entra:ClientId"] = ClientId,
        });
        // Configured before the API's own JwtBearer options (which set authority and audience, and
        // leave a given configuration alone), so the handler uses this one instead of fetching it.
        builder.Services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
            options.Configuration = new OpenIdConnectConfiguration { Issuer = Issuer, SigningKeys = { SigningKey } });
    }

    /// <summary>A token for <paramref name="roles"/>, valid now unless told otherwise.</summary>
    public static string Issue(
        string[] roles,
        string? subject = null,
        string issuer = Issuer,
        string audience = ClientId,
        DateTime? expires = null,
        SecurityKey? signedWith = null,
        IReadOnlyDictionary<string, object>? extraClaims = null,
        IReadOnlyCollection<string>? withoutClaims = null)
    {
        var expiry = expires ?? DateTime.UtcNow.AddHours(1);
        var caller = subject ?? Guid.NewGuid().ToString();
        var claims = new Dictionary<string, object>
        {
            ["oid"] = caller,
            ["sub"] = "pairwise-" + caller,
            ["tid"] = TenantId,
            ["azp"] = Guid.NewGuid().ToString(),
        };
        foreach (var (type, value) in extraClaims ?? new Dictionary<string, object>())
        {
            claims[type] = value;
        }

        foreach (var type in withoutClaims ?? [])
        {
            claims.Remove(type);
        }

        if (roles.Length > 0)
        {
            claims["roles"] = roles;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expiry.AddHours(-1),
            NotBefore = expiry.AddHours(-1),
            Expires = expiry,
            Claims = claims,
            SigningCredentials = new SigningCredentials(signedWith ?? SigningKey, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>The signing key as an authority publishes it at its <c>jwks_uri</c> (the public part only).</summary>
    public static object PublishedSigningKeys()
    {
        var key = SigningKey.Rsa.ExportParameters(includePrivateParameters: false);
        return new
        {
            keys = new[]
            {
                new { kty = "RSA", use = "sig", alg = "RS256", kid = SigningKey.KeyId, n = Base64UrlEncoder.Encode(key.Modulus), e = Base64UrlEncoder.Encode(key.Exponent) },
            },
        };
    }

    /// <summary>A key the host does not trust.</summary>
    public static SecurityKey UntrustedKey() => NewKey("untrusted-key");

    private static RsaSecurityKey NewKey(string id) => new(RSA.Create(2048)) { KeyId = id };
}
