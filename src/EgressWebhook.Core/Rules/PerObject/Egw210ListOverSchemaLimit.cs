using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Rules.PerObject;

/// <summary>EGW210: a list longer than Istio's CRD schema allows (<c>maxItems</c>, <see cref="SchemaLimits"/>): the API
/// server refuses the object after the mutating webhooks, and on clusters with older CRDs (no <c>maxItems</c>) the list is
/// what makes the cross-resource checks of a 3 MiB object slow.</summary>
/// <remarks>One finding per object, on the first such list, counting the others. When it is an error the engine runs
/// no other rule on the object under review and re-checks none of its dependents (<see cref="Engine.EgressEngine"/>):
/// the object is refused, and the finding says why.</remarks>
internal sealed class Egw210ListOverSchemaLimit : IEgressRule
{
    public IReadOnlyList<string> Ids { get; } = [RuleIds.ListOverSchemaLimit];

    public bool AppliesTo(ResourceKind kind) => SchemaLimits.Bounds(kind);

    public void Check(EgressObject subject, RuleContext context)
    {
        if (SchemaLimits.FirstOver(subject) is { } excess)
        {
            Report(subject, excess, context);
        }
    }

    /// <summary>The finding for <paramref name="excess"/>, found by the engine with the old version of an UPDATE.</summary>
    internal static void Report(EgressObject subject, SchemaLimits.Excess excess, RuleContext context)
    {
        var others = excess.Others switch
        {
            0 => "",
            1 => " (+1 more list)",
            _ => $" (+{excess.Others} more lists)",
        };
        context.Report(RuleIds.ListOverSchemaLimit, Severity.Error, subject, excess.Path, $"{excess.Items}{others}; {excess.Fix}");
    }
}
