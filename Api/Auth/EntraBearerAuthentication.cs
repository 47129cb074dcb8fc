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
                OnTokenValidated = NameTheCaller,
                OnChallenge = ChallengeAsync,
                OnForbidden = context => Problems.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, "Forbidden",
                    "This token's roles do not allow this request.", "forbidden"),
            };
        });

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
}
