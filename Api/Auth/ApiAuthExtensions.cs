using Microsoft.AspNetCore.Authorization;

namespace OrderFlow.Api.Auth;

public static class ApiAuthExtensions
{
    /// <summary>
    /// API keys with roles from <c>Api:Keys</c>. Development with no keys: authentication is off
    /// (logged as a warning at start-up). Any other environment with no keys: refuses to start.
    /// </summary>
    public static WebApplicationBuilder AddApiKeyAuthentication(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ApiKeyOptions.Section).Get<ApiKeyOptions>() ?? new ApiKeyOptions();
        var registry = new ApiKeyRegistry(options);
        if (registry.IsEmpty && !builder.Environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                $"No API keys are configured, and outside Development the API does not run without authentication " +
                $"(environment: {builder.Environment.EnvironmentName}). Configure at least one key, for example with the environment variables " +
                $"Api__Keys__0__Key=<a long random secret> and Api__Keys__0__Role=admin (roles: {string.Join(", ", ApiRoles.All)}).");
        }

        builder.Services.AddSingleton(registry);
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(
                ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiPolicies.Read, policy => Require(policy, registry, ApiRoles.Reader, ApiRoles.Admin))
            .AddPolicy(ApiPolicies.Write, policy => Require(policy, registry, ApiRoles.Writer, ApiRoles.Admin))
            .AddPolicy(ApiPolicies.Admin, policy => Require(policy, registry, ApiRoles.Admin));
        builder.Services.AddHostedService(services => new AuthenticationOffWarning(
            registry, services.GetRequiredService<ILogger<AuthenticationOffWarning>>()));
        return builder;
    }

    private static void Require(AuthorizationPolicyBuilder policy, ApiKeyRegistry registry, params string[] roles)
    {
        if (registry.IsEmpty)
        {
            policy.RequireAssertion(_ => true); // Development without keys: everything is allowed.
        }
        else
        {
            policy.RequireAuthenticatedUser().RequireRole(roles);
        }
    }

    private sealed class AuthenticationOffWarning(ApiKeyRegistry registry, ILogger<AuthenticationOffWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (registry.IsEmpty)
            {
                logger.LogWarning(
                    "Authentication is OFF: no API keys are configured (Api:Keys) and the environment is Development. Anyone who can reach this port may read, write and administer.");
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
