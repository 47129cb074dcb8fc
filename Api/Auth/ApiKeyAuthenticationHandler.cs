using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OrderFlow.Api.Operations;
using OrderFlow.Api.Errors;

namespace OrderFlow.Api.Auth;

/// <summary>
/// Authenticates a request by its API key: the <c>X-Api-Key</c> header, or for the dashboard only,
/// HTTP Basic with the key as password (any user name), which is how a browser gets into it.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyRegistry keys,
    AcceptedCredentials credentials)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = PresentedKey();
        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!keys.TryFind(key, out var role, out var name))
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role)],
            SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // Browsers only prompt for Basic: offer it where people arrive with one. Elsewhere every kind
        // of credential the API accepts is named (requests without a bearer token are judged here).
        Response.Headers.WWWAuthenticate = credentials.ApiKeys && Request.Path.StartsWithSegments(OperationsApi.DashboardPath)
            ? "Basic realm=\"OrderFlow dashboard\", charset=\"UTF-8\""
            : credentials.Challenges();
        return Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized", credentials.HowToAuthenticate, "unauthorized");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden",
            "This API key's role does not allow this request.", "forbidden");

    private string? PresentedKey()
    {
        if (Request.Headers.TryGetValue(HeaderName, out var header) && !string.IsNullOrEmpty(header))
        {
            return header.ToString();
        }

        // Basic only for the dashboard, where a browser needs it: a browser sends the credentials it
        // remembers by itself with every request to the site, including a form or beacon another site
        // makes it send (an erasure, a rebuild: no body, no header to require). X-Api-Key and Bearer
        // are never sent on their own.
        if (Request.Path.StartsWithSegments(OperationsApi.DashboardPath)
            && AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var authorization)
            && string.Equals(authorization.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            && authorization.Parameter is { } parameter)
        {
            try
            {
                var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
                var colon = credentials.IndexOf(':', StringComparison.Ordinal);
                return colon >= 0 ? credentials[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }
}
