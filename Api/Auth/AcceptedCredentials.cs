using Microsoft.Extensions.Primitives;

namespace OrderFlow.Api.Auth;

/// <summary>
/// Which credentials this API accepts, as configured: API keys (<c>Api:Keys</c>), Microsoft Entra ID
/// access tokens (<c>Authentication:Entra</c>), both, or neither (Development only: authentication off).
/// A 401 names every kind that is accepted.
/// </summary>
public sealed class AcceptedCredentials(bool apiKeys, bool entraTokens)
{
    public const string ApiKeyChallenge = $"ApiKey header=\"{ApiKeyAuthenticationHandler.HeaderName}\"";

    public bool ApiKeys { get; } = apiKeys;

    public bool EntraTokens { get; } = entraTokens;

    public bool None => !ApiKeys && !EntraTokens;

    /// <summary>The <c>WWW-Authenticate</c> challenges of a 401, with <paramref name="bearerChallenge"/> for tokens.</summary>
    public StringValues Challenges(string bearerChallenge = "Bearer") => (ApiKeys, EntraTokens) switch
    {
        (true, true) => new StringValues([ApiKeyChallenge, bearerChallenge]),
        (false, true) => bearerChallenge,
        _ => ApiKeyChallenge,
    };

    /// <summary>The detail of a 401 without credentials: what to send.</summary>
    public string HowToAuthenticate => (ApiKeys, EntraTokens) switch
    {
        (true, true) => $"Send a valid API key in the {ApiKeyAuthenticationHandler.HeaderName} header, or a Microsoft Entra ID access token for this API as Authorization: Bearer <token>.",
        (false, true) => "Send a Microsoft Entra ID access token for this API as Authorization: Bearer <token>.",
        _ => $"Send a valid API key in the {ApiKeyAuthenticationHandler.HeaderName} header.",
    };
}
