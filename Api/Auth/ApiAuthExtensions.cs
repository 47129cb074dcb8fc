using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;

namespace OrderFlow.Api.Auth;

public static class ApiAuthExtensions
{
    /// <summary>
    /// Who may call the API, and how often: API keys with roles from <c>Api:Keys</c>, Microsoft Entra ID
    /// access tokens with app roles (<c>Authentication:Entra</c>), one set of role policies for both, and
    /// per-caller limits on commands (<c>RateLimiting:Commands</c>; the pipeline needs <c>UseRateLimiter</c>
    /// after authorization). Development with neither keys nor Entra ID: authentication is off (logged
    /// as a warning at start-up). Any other environment with neither: refuses to start.
    /// </summary>
    public static WebApplicationBuilder AddApiAccess(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ApiKeyOptions.Section).Get<ApiKeyOptions>() ?? new ApiKeyOptions();
        var registry = new ApiKeyRegistry(options);
        var entra = EntraOptions.From(builder.Configuration);
        var credentials = new AcceptedCredentials(apiKeys: !registry.IsEmpty, entraTokens: entra is not null);
        if (credentials.None && !builder.Environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                $"Neither API keys nor Microsoft Entra ID are configured, and outside Development the API does not run without authentication " +
                $"(environment: {builder.Environment.EnvironmentName}). Configure at least one key, for example with the environment variables " +
                $"Api__Keys__0__Key=<a long random secret> and Api__Keys__0__Role=admin (roles: {string.Join(", ", ApiRoles.All)}), " +
                $"or Entra ID with Authentication__Entra__TenantId=<directory (tenant) id> and Authentication__Entra__ClientId=<the API's application (client) id> " +
                $"(README \"Identity\").");
        }

        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton(credentials);
        var authentication = builder.Services.AddAuthentication(CallerScheme)
            .AddPolicyScheme(CallerScheme, "API key or Entra ID token", scheme => scheme.ForwardDefaultSelector = context => SchemeOf(context, credentials))
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        if (entra is not null)
        {
            authentication.AddEntraBearer(entra);
        }

        // The same roles from either credential: admin may do everything, reader only read, writer only write.
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicies.Read, policy => Require(policy, credentials, ApiRoles.Reader, ApiRoles.Admin))
            .AddPolicy(ApiPolicies.Write, policy => Require(policy, credentials, ApiRoles.Writer, ApiRoles.Admin))
            .AddPolicy(ApiPolicies.Admin, policy => Require(policy, credentials, ApiRoles.Admin));
        builder.Services.AddCommandRateLimits(builder.Configuration);
        builder.Services.AddHostedService(services => new AuthenticationOffWarning(
            credentials, services.GetRequiredService<ILogger<AuthenticationOffWarning>>()));
        return builder;
    }

    /// <summary>The default scheme: it hands each request to the scheme of the credentials it carries.</summary>
    private const string CallerScheme = "Caller";

    /// <summary>
    /// <c>X-Api-Key</c> (or none, or HTTP Basic for the dashboard) is judged by the keys,
    /// <c>Authorization: Bearer</c> with no key (an empty <c>X-Api-Key</c> is none) by Entra ID; so a
    /// refusal (401, 403) comes from the scheme of the credentials presented.
    /// </summary>
    private static string SchemeOf(HttpContext context, AcceptedCredentials credentials) =>
        credentials.EntraTokens
        && string.IsNullOrEmpty(context.Request.Headers[ApiKeyAuthenticationHandler.HeaderName])
        && context.Request.Headers.Authorization.ToString().StartsWith(JwtBearerDefaults.AuthenticationScheme + " ", StringComparison.OrdinalIgnoreCase)
            ? EntraBearerAuthentication.SchemeName
            : ApiKeyAuthenticationHandler.SchemeName;

    private static void Require(AuthorizationPolicyBuilder policy, AcceptedCredentials credentials, params string[] roles)
    {
        if (credentials.None)
        {
            policy.RequireAssertion(_ => true); // Development without keys or Entra ID: everything is allowed.
        }
        else
        {
            policy.RequireAuthenticatedUser().RequireRole(roles);
        }
    }

    private sealed class AuthenticationOffWarning(AcceptedCredentials credentials, ILogger<AuthenticationOffWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (credentials.None)
            {
                logger.LogWarning(
                    "Authentication is OFF: no API keys (Api:Keys) nor Entra ID (Authentication:Entra) are configured and the environment is Development. Anyone who can reach this port may read, write and administer.");
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
