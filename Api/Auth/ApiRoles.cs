namespace OrderFlow.Api.Auth;

/// <summary>The roles an API key or an Entra ID token (app roles, claim <c>roles</c>) can have (API.md "Authentication").</summary>
public static class ApiRoles
{
    /// <summary>May send commands.</summary>
    public const string Writer = "writer";

    /// <summary>May read orders and statistics.</summary>
    public const string Reader = "reader";

    /// <summary>May do everything, including /api/admin and /dashboard.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Writer, Reader, Admin };
}

/// <summary>Authorization policies that endpoints require.</summary>
public static class ApiPolicies
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Admin = "admin";
}
