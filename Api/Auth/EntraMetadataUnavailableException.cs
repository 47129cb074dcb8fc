namespace OrderFlow.Api.Auth;

/// <summary>
/// The authority's OpenID configuration (issuer and signing keys) could not be had, so no token can be
/// judged: Entra ID, or the way to it, is down. The caller is not at fault: 503, not 401.
/// </summary>
public sealed class EntraMetadataUnavailableException(string authority, Exception cause)
    : Exception($"The OpenID configuration of the Entra ID authority '{authority}' could not be fetched: {cause.Message}", cause);
