using System.Text;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;
using FluentValidation;
using FluentValidation.Results;

namespace EgressWebhook.Core.Rules.PerObject;

/// <summary>Runs a FluentValidation validator for one kind as an engine rule. The one place where
/// <see cref="ValidationFailure"/> becomes a <see cref="Finding"/>: <c>ErrorCode</c> is the rule id,
/// <c>Spec.Ports[0].Number</c> becomes <c>spec.ports[0].number</c>, FluentValidation's Warning and Info
/// severities become warnings.</summary>
internal sealed class ValidatorRule<T>(IValidator<T> validator, params string[] ids) : IEgressRule
    where T : EgressObject
{
    public IReadOnlyList<string> Ids { get; } = ids;

    public bool AppliesTo(ResourceKind kind) => typeof(T) == TypeOf(kind);

    public void Check(EgressObject subject, RuleContext context)
    {
        if (subject is not T typed)
        {
            return;
        }

        foreach (var failure in validator.Validate(typed).Errors)
        {
            var severity = failure.Severity == FluentValidation.Severity.Error ? Rules.Severity.Error : Rules.Severity.Warning;
            var related = failure.CustomState as IEnumerable<ObjectRef> ?? [];
            context.Report(failure.ErrorCode, severity, subject, FieldPath(failure.PropertyName), failure.ErrorMessage, related);
        }
    }

    public IEnumerable<EgressObject> AffectedBy(EgressObject changed, SnapshotView view) => [];

    /// <summary><c>Spec.Ports[0].Number</c> → <c>spec.ports[0].number</c>.</summary>
    internal static string FieldPath(string propertyName)
    {
        var sb = new StringBuilder(propertyName.Length);
        var startOfSegment = true;
        foreach (var c in propertyName)
        {
            sb.Append(startOfSegment ? char.ToLowerInvariant(c) : c);
            startOfSegment = c == '.';
        }

        return sb.ToString();
    }

    private static Type? TypeOf(ResourceKind kind) => kind switch
    {
        ResourceKind.ServiceEntry => typeof(ServiceEntry),
        ResourceKind.Gateway => typeof(Gateway),
        ResourceKind.VirtualService => typeof(VirtualService),
        ResourceKind.DestinationRule => typeof(DestinationRule),
        ResourceKind.Sidecar => typeof(Sidecar),
        _ => null,
    };
}
