using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;

namespace EgressWebhook.Server.Tests.Infrastructure;

/// <summary>A rule driven by annotations, for the shell's tests (denials, warning limits, rule exceptions,
/// snapshot dependence) independently of the catalogue's rules:
/// <c>test.egress/deny: EGW105</c> reports that rule as an error; <c>test.egress/warn: "N"</c> reports N long
/// warnings, 20 per rule (the <see cref="FindingCap"/> per rule and object) under EGW202, EGW203, … EGW209 in turn; <c>test.egress/throw: "yes"</c> throws; <c>test.egress/requires: ServiceEntry/ns/name</c> is an
/// EGW101 error unless that object is in the snapshot.</summary>
public sealed class AnnotationRule : IEgressRule
{
    public const string Deny = "test.egress/deny";
    public const string Warn = "test.egress/warn";
    public const string Throw = "test.egress/throw";
    public const string Requires = "test.egress/requires";

    /// <summary>The warning ids of <see cref="Warn"/>, one per 20 warnings.</summary>
    public static IReadOnlyList<string> WarningIds { get; } =
    [
        RuleIds.DnsResolutionWildcardHost, RuleIds.EndpointsInconsistent, RuleIds.MultiHostNeedsHttpOrTls, RuleIds.InvalidPorts,
        RuleIds.GatewayServerTls, RuleIds.TlsRouteMatch, RuleIds.DestinationRuleTlsSettings, RuleIds.HostTooLong,
    ];

    public static EgressEngine Engine { get; } = new(RuleCatalog.All.Append(new AnnotationRule()));

    public IReadOnlyList<string> Ids { get; } = [RuleIds.DestinationHostNotRegistered, .. WarningIds];

    public bool AppliesTo(ResourceKind kind) => true;

    public void Check(EgressObject subject, RuleContext context)
    {
        var annotations = subject.Metadata.Annotations;
        if (annotations.ContainsKey(Throw))
        {
            throw new InvalidOperationException("rule failed on purpose");
        }

        if (annotations.TryGetValue(Deny, out var rule))
        {
            context.Report(rule, Severity.Error, subject, "metadata.annotations", $"denied on purpose by {Deny} on {subject.Ref}; remove the annotation");
        }

        if (annotations.TryGetValue(Warn, out var count))
        {
            for (var i = 0; i < int.Parse(count, System.Globalization.CultureInfo.InvariantCulture); i++)
            {
                context.Report(WarningIds[i / 20 % WarningIds.Count], Severity.Warning, subject, $"spec.hosts[{i}]",
                    $"warning number {i:0000} about host {i} of {subject.Ref}: this text is long so that warnings get clamped to the limit");
            }
        }

        if (annotations.TryGetValue(Requires, out var required))
        {
            var parts = required.Split('/');
            var key = new ObjectKey(Enum.Parse<ResourceKind>(parts[0]), parts[1], parts[2]);
            if (context.View.Find(key) is null)
            {
                context.Report(RuleIds.DestinationHostNotRegistered, Severity.Error, subject, "metadata.annotations",
                    $"{key} does not exist; create it first");
            }
        }
    }
}
