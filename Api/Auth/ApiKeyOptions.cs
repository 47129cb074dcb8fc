namespace OrderFlow.Api.Auth;

/// <summary>
/// Configuration section <c>Api</c>: <c>Api:Keys</c> is a list of <c>{ Key, Role }</c>, so that
/// <c>Api__Keys__0__Key</c> and <c>Api__Keys__0__Role</c> work from the environment.
/// </summary>
public sealed class ApiKeyOptions
{
    public const string Section = "Api";

    public List<ApiKeyEntry> Keys { get; set; } = [];
}

public sealed class ApiKeyEntry
{
    public string? Key { get; set; }

    public string? Role { get; set; }
}
