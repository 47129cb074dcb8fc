namespace OrderFlow.Api.Auth;

/// <summary>
/// Configuration section <c>Authentication:Entra</c>: Microsoft Entra ID access tokens for this API.
/// On when <c>TenantId</c> (or a whole <c>Authority</c>) is set; a token must then be issued by the
/// authority for <c>Audience</c> or <c>ClientId</c>, and carries its app roles in <c>roles</c>.
/// </summary>
public sealed class EntraOptions
{
    public const string Section = "Authentication:Entra";

    public string Instance { get; set; } = "https://login.microsoftonline.com/";

    public string? TenantId { get; set; }

    /// <summary>Overrides <see cref="Instance"/> and <see cref="TenantId"/> (a sovereign cloud, or a test's issuer).</summary>
    public string? Authority { get; set; }

    /// <summary>The application ID URI (<c>api://…</c>), accepted as a v2 token's audience too (v1 tokens, from another issuer, are not accepted).</summary>
    public string? Audience { get; set; }

    /// <summary>The API's application (client) id, the audience of v2 tokens.</summary>
    public string? ClientId { get; set; }

    /// <summary>The authority whose OpenID configuration names the issuer and signing keys (v2.0 endpoint).</summary>
    public string EffectiveAuthority => !string.IsNullOrWhiteSpace(Authority)
        ? Authority
        : $"{Instance.TrimEnd('/')}/{TenantId}/v2.0";

    public IReadOnlyList<string> Audiences =>
        new[] { Audience, ClientId }.Where(value => !string.IsNullOrWhiteSpace(value)).Select(value => value!).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The settings when Entra ID is configured, null when it is not; refuses a half-done configuration.</summary>
    public static EntraOptions? From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<EntraOptions>() ?? new EntraOptions();
        if (string.IsNullOrWhiteSpace(options.TenantId) && string.IsNullOrWhiteSpace(options.Authority))
        {
            return null;
        }

        if (options.Audiences.Count == 0)
        {
            throw new InvalidOperationException(
                $"Microsoft Entra ID is configured ({Section}:TenantId or Authority) but no audience is: set {Section}:ClientId to the API's application (client) id "
                + $"(Authentication__Entra__ClientId), or {Section}:Audience to its application ID URI (api://...).");
        }

        if (!Uri.TryCreate(options.EffectiveAuthority, UriKind.Absolute, out var authority) || authority.Scheme != Uri.UriSchemeHttps)
        {
            throw new InvalidOperationException(
                $"The Entra ID authority '{options.EffectiveAuthority}' is not an https URL. Check {Section}:Instance, TenantId and Authority.");
        }

        return options;
    }
}
