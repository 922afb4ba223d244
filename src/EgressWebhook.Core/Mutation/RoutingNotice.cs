using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Core.Mutation;

/// <summary>The planner's notices: EGW4xx warnings on the entry, the message clamped to the headline length.</summary>
internal static class RoutingNotice
{
    public static Finding Warning(string rule, ServiceEntry entry, string path, string message, params ObjectRef[] related) =>
        new(rule, Severity.Warning, entry.Ref, path, Finding.Clamp(message), related);
}
