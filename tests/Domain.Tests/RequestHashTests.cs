using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Orleans;
using OrderFlow.Customers.Commands;
using OrderFlow.Grains.EventSourcing;
using OrderFlow.Orders.Commands;

namespace OrderFlow.Domain.Tests;

/// <summary>
/// An idempotency record keeps a hash of its request, so a retry within the retention window must
/// hash alike across deployments: a class rename (the wire alias kept) is no new request.
/// </summary>
public sealed class RequestHashTests
{
    private const string Alias = "orderflow.tests.request-hash-command";

    [Fact]
    public async Task A_request_is_hashed_under_its_wire_alias_not_its_class_name()
    {
        var request = new HashedCommand("p-1", 21m);

        var stored = await RequestHash.OfAsync(request, "subject", personalData: null!);

        // What a build with the class renamed (the alias kept, as the wire requires) computes for its retry.
        Assert.Equal(Sha256(Alias + "\n" + JsonSerializer.Serialize(request, StoredJson.Options)), stored);
    }

    [Fact]
    public async Task A_record_hashed_under_the_class_name_by_an_earlier_build_still_matches()
    {
        var retry = new HashedCommand("p-1", 21m);
        var storedByEarlierBuild = Sha256(nameof(HashedCommand) + "\n" + JsonSerializer.Serialize(retry, StoredJson.Options));

        Assert.True(await RequestHash.MatchesAsync(storedByEarlierBuild, retry, retry, personalData: null!));
    }

    [Fact]
    public async Task Another_request_under_the_same_key_does_not_match()
    {
        var stored = await RequestHash.OfAsync(new HashedCommand("p-1", 21m), "subject", personalData: null!);

        var other = new HashedCommand("p-1", 22m);

        Assert.False(await RequestHash.MatchesAsync(stored, other, other, personalData: null!));
    }

    /// <summary>A command is hashed under its own alias (not one inherited), so each must declare one, and no two the same.</summary>
    [Fact]
    public void Every_command_declares_its_own_wire_alias()
    {
        var commands = typeof(OrderCommand).Assembly.GetTypes()
            .Where(type => type is { IsAbstract: false } && (type.IsSubclassOf(typeof(OrderCommand)) || type.IsSubclassOf(typeof(CustomerCommand))))
            .ToList();

        var aliases = commands.Select(type => (type.Name, Alias: type.GetCustomAttribute<AliasAttribute>(inherit: false)?.Alias)).ToList();

        Assert.Contains(aliases, command => command.Name == nameof(PlaceOrder));
        Assert.Contains(aliases, command => command.Name == nameof(RegisterCustomer));
        Assert.All(aliases, command => Assert.False(command.Alias is null, $"{command.Name} declares no [Alias]"));
        Assert.Equal(aliases.Count, aliases.Select(command => command.Alias).Distinct().Count());
    }

    private static string Sha256(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Alias(Alias)]
    internal sealed record HashedCommand(string PaymentId, decimal Amount);
}
