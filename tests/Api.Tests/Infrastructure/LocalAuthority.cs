using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace OrderFlow.Api.Tests.Infrastructure;

/// <summary>
/// An OpenID authority on a loopback HTTPS port (Kestrel, a certificate made here), publishing what
/// Entra ID publishes for <see cref="TestTokens"/>: the issuer and the test signing key. While
/// <see cref="Down"/> it answers every request 503, as an authority in an outage would.
/// </summary>
public sealed class LocalAuthority : IAsyncDisposable
{
    private const string TenantPath = "/" + TestTokens.TenantId + "/v2.0";

    private readonly WebApplication app;
    private readonly X509Certificate2 certificate;

    private LocalAuthority(WebApplication app, X509Certificate2 certificate, Uri baseAddress)
    {
        this.app = app;
        this.certificate = certificate;
        Authority = baseAddress + TenantPath.TrimStart('/');
    }

    /// <summary>What <c>Authentication:Entra:Authority</c> is set to.</summary>
    public string Authority { get; }

    public bool Down { get; set; } = true;

    public static async Task<LocalAuthority> StartAsync()
    {
        var certificate = SelfSignedForLoopback();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        LocalAuthority? authority = null;
        app.Use(async (context, next) =>
        {
            if (authority?.Down != false)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            await next(context);
        });
        app.MapGet(TenantPath + "/.well-known/openid-configuration", (HttpContext context) => Results.Json(new
        {
            issuer = TestTokens.Issuer,
            jwks_uri = $"{context.Request.Scheme}://{context.Request.Host}{TenantPath}/discovery/keys",
            id_token_signing_alg_values_supported = new[] { "RS256" },
        }));
        app.MapGet(TenantPath + "/discovery/keys", () => Results.Json(TestTokens.PublishedSigningKeys()));
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        authority = new LocalAuthority(app, certificate, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"));
        return authority;
    }

    /// <summary>Entra ID on with <see cref="TestTokens.ClientId"/>, its configuration fetched from <paramref name="authority"/>, whose certificate it trusts.</summary>
    public static void Use(WebApplicationBuilder builder, string authority, X509Certificate2? trusted)
    {
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Authentication:Entra:Authority"] = authority,
            ["Authentication:Entra:ClientId"] = TestTokens.ClientId,
        });
        if (trusted is not null)
        {
            builder.Services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
                options.BackchannelHttpHandler = new HttpClientHandler
                {
                    ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == trusted.Thumbprint,
                });
        }
    }

    public void Use(WebApplicationBuilder builder) => Use(builder, Authority, certificate);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
        certificate.Dispose();
    }

    private static X509Certificate2 SelfSignedForLoopback()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Kestrel needs the private key in a form it can use on Linux: a PKCS#12 round trip.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}
