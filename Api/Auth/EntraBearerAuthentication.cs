using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using OrderFlow.Api.Errors;

namespace OrderFlow.Api.Auth;

/// <summary>
/// Microsoft Entra ID access tokens as <c>Authorization: Bearer</c>: issuer and signing keys from the
/// authority's OpenID configuration, audience from <see cref="EntraOptions"/>, app roles from the
/// <c>roles</c> claim (the same roles as API keys). Refusals are problem documents like the keys'.
/// </summary>
public static class EntraBearerAuthentication
{
    public const string SchemeName = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>Where Entra ID puts the app roles assigned to the caller.</summary>
    public const string RolesClaim = "roles";

    /// <summary>
    /// The caller's name (<see cref="ClaimTypes.Name"/>): the object id of the user or service principal
    /// (<c>oid</c>), or the subject (<c>sub</c>) when a token has none. Rate limits and idempotency go by it.
    /// </summary>
    public const string CallerNamePrefix = "entra:";

    public static AuthenticationBuilder AddEntraBearer(this AuthenticationBuilder authentication, EntraOptions entra) =>
        authentication.AddJwtBearer(SchemeName, options =>
        {
            options.Authority = entra.EffectiveAuthority;
            options.MapInboundClaims = false; // keep Entra's claim names: roles, oid, sub
            // Properties, not a new object: a test host may have set its own signing configuration already.
            options.TokenValidationParameters.ValidAudiences = entra.Audiences;
            options.TokenValidationParameters.RoleClaimType = RolesClaim;
            options.TokenValidationParameters.NameClaimType = ClaimTypes.Name;
            options.Events = new JwtBearerEvents
            {
                OnMessageReceived = RequireTheAuthorityConfigurationAsync,
                OnTokenValidated = NameTheCaller,
                OnChallenge = ChallengeAsync,
                OnForbidden = context => Problems.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, "Forbidden",
                    "This token's roles do not allow this request.", "forbidden"),
            };
        });

    /// <summary>
    /// The authority's configuration, cached by the handler's configuration manager (refreshed in the
    /// background, the last good one kept while a refresh fails). Without any, the token handler would
    /// call every token invalid (a 401 that tells the caller to get another token): this fails the
    /// request as an outage instead (<see cref="ChallengeAsync"/> answers 503).
    /// </summary>
    private static async Task RequireTheAuthorityConfigurationAsync(MessageReceivedContext context)
    {
        if (context.Options.ConfigurationManager is not { } configuration)
        {
            return;
        }

        try
        {
            await configuration.GetConfigurationAsync(context.HttpContext.RequestAborted);
        }
        catch (Exception exception) when (!context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            context.Fail(new EntraMetadataUnavailableException(context.Options.Authority ?? "(none)", exception));
        }
    }

    private static Task NameTheCaller(TokenValidatedContext context)
    {
        if (context.Principal?.Identity is not ClaimsIdentity identity)
        {
            context.Fail("The token has no identity.");
            return Task.CompletedTask;
        }

        var subject = identity.FindFirst("oid")?.Value ?? identity.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(subject))
        {
            context.Fail("The token names no caller (no oid or sub claim).");
            return Task.CompletedTask;
        }

        // The caller's name is ours alone: a name claim the token brings (a tenant's claims-mapping
        // policy can add one) would otherwise win, and pick its rate-limit bucket and idempotency scope.
        foreach (var brought in identity.FindAll(ClaimTypes.Name).ToList())
        {
            identity.RemoveClaim(brought);
        }

        identity.AddClaim(new Claim(ClaimTypes.Name, CallerNamePrefix + subject));
        return Task.CompletedTask;
    }

    private static Task ChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        if (context.AuthenticateFailure is EntraMetadataUnavailableException outage)
        {
            return AnswerOutageAsync(context.HttpContext, outage);
        }

        var credentials = context.HttpContext.RequestServices.GetRequiredService<AcceptedCredentials>();
        var bearer = "Bearer";
        if (!string.IsNullOrEmpty(context.Error))
        {
            // RFC 6750 §3: the error, and its description where the handler knows one (expired, audience, issuer, signature).
            bearer += $" error=\"{context.Error}\"" + (string.IsNullOrEmpty(context.ErrorDescription) ? "" : $", error_description=\"{context.ErrorDescription}\"");
        }

        context.Response.Headers.WWWAuthenticate = credentials.Challenges(bearer);
        var detail = context.AuthenticateFailure is null
            ? credentials.HowToAuthenticate
            : "The bearer token was refused" + (string.IsNullOrEmpty(context.ErrorDescription) ? "." : $": {context.ErrorDescription}.")
                + " Send a Microsoft Entra ID access token issued for this API, within its lifetime.";
        return Problems.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "Unauthorized", detail, "unauthorized");
    }

    private static Task AnswerOutageAsync(HttpContext http, EntraMetadataUnavailableException outage)
    {
        http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(EntraBearerAuthentication))
            .LogWarning(outage, "Entra ID unavailable for {Method} {Path}: a bearer token cannot be checked", http.Request.Method, http.Request.Path);
        http.Response.Headers.RetryAfter = ApiExceptionHandler.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.WriteAsync(http, StatusCodes.Status503ServiceUnavailable, "Identity provider unavailable",
            "Microsoft Entra ID's signing keys could not be fetched, so no bearer token can be checked now; nothing was done. "
            + "Retry later with the same token (or use an API key where one is configured).",
            "identity-unavailable");
    }
}
