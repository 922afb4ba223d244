using System.Reflection;
using EgressWebhook.Server.Logging;
using Microsoft.Extensions.Logging;

namespace EgressWebhook.Server.Tests.Logging;

/// <summary>Every <c>[LoggerMessage]</c> of the server has an id of its own, and it is one of <see cref="EventIds"/>.</summary>
public sealed class EventIdsTests
{
    private static readonly Assembly Server = typeof(EventIds).Assembly;

    private static List<(string Method, int Id)> LoggerMessages() =>
        [.. Server.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => ($"{x.Method.DeclaringType!.FullName}.{x.Method.Name}", x.Attribute!.EventId))];

    private static List<(string Name, int Id)> Constants() =>
        [.. typeof(EventIds).GetNestedTypes()
            .SelectMany(area => area.GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.IsLiteral)
                .Select(f => ($"{area.Name}.{f.Name}", (int)f.GetRawConstantValue()!)))];

    [Fact]
    public void LoggerMessages_NoTwoShareAnEventId()
    {
        var messages = LoggerMessages();
        Assert.True(messages.Count >= 40, $"only {messages.Count} [LoggerMessage] methods found: the reflection misses some");

        var shared = messages.GroupBy(m => m.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}").ToList();

        Assert.True(shared.Count == 0, "event ids used twice: " + string.Join("; ", shared));
    }

    [Fact]
    public void EventIds_NoTwoConstantsShareAValue_AndEveryOneIsUsed()
    {
        var constants = Constants();
        var shared = constants.GroupBy(c => c.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(c => c.Name))}").ToList();
        var used = LoggerMessages().Select(m => m.Id).ToHashSet();

        Assert.True(shared.Count == 0, "EventIds constants with the same value: " + string.Join("; ", shared));
        Assert.Equal([], constants.Where(c => !used.Contains(c.Id)).Select(c => c.Name));
        Assert.Equal([], used.Where(id => !constants.Exists(c => c.Id == id)));
    }
}
