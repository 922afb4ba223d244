using System.Globalization;
using EgressWebhook.Core.Model;

namespace EgressWebhook.Core.Istio;

/// <summary>The list lengths Istio's CRD schemas bound with <c>maxItems</c>, as the API server enforces them: after every
/// mutating webhook and before any validating webhook (schema validation of the stored version).</summary>
/// <remarks>One row per bounded list of a field the model reads, from <c>crd-all.gen.yaml</c>
/// (<c>manifests/charts/base/files</c>): the same in istio/istio 1.32 (<c>86c9f01f</c>) for v1, v1beta1 and v1alpha3.
/// Istio 1.24's CRDs have the ServiceEntry, DestinationRule and AuthorizationPolicy (security.istio.io) rows, not the
/// Gateway one (added later). Not here: the AuthorizationPolicy's <c>spec.rules</c> (512) and their <c>from</c> (512) and
/// service accounts (16, 1.32), and the
/// Sidecar's <c>spec.ingress[].tls.credentialNames</c> / <c>tlsCertificates</c> and the Gateway's
/// <c>spec.servers[].tls.tlsCertificates</c> (2 each), fields the model does not read (the decoder skips them); the
/// VirtualService, WorkloadEntry and the other lists of these kinds have no <c>maxItems</c>.
/// Counting is one look at each list's length (a nested row: one per item of the outer list), never a walk over items.</remarks>
internal static class SchemaLimits
{
    /// <summary>A bounded list: its kind, path as the CRD names it (<c>[]</c> for each item of an outer list), the limit,
    /// and the lengths of its instances in an object, in the order of the outer list (one for a top-level list).</summary>
    internal sealed record Limit(ResourceKind Kind, string Path, int MaxItems, string Fix, Func<EgressObject, IEnumerable<int>> Lengths);

    /// <summary>Every row (crd-all.gen.yaml, istio/istio 1.32 <c>86c9f01f</c>; also 1.24 but for the Gateway row).</summary>
    public static IReadOnlyList<Limit> All { get; } =
    [
        new(ResourceKind.ServiceEntry, "spec.hosts", 256, "split the hosts over several ServiceEntries", o => [((ServiceEntry)o).Spec.Hosts.Count]),
        new(ResourceKind.ServiceEntry, "spec.addresses", 256, "split the ServiceEntry into several", o => [((ServiceEntry)o).Spec.Addresses.Count]),
        new(ResourceKind.ServiceEntry, "spec.ports", 256, "split the ServiceEntry into several", o => [((ServiceEntry)o).Spec.Ports.Count]),
        new(ResourceKind.ServiceEntry, "spec.endpoints", 4096, "split the ServiceEntry into several", o => [((ServiceEntry)o).Spec.Endpoints.Count]),
        new(ResourceKind.DestinationRule, "spec.trafficPolicy.portLevelSettings", 4096, "shorten the list",
            o => [((DestinationRule)o).Spec.TrafficPolicy?.PortLevelSettings.Count ?? 0]),
        new(ResourceKind.DestinationRule, "spec.subsets[].trafficPolicy.portLevelSettings", 4096, "shorten the list",
            o => ((DestinationRule)o).Spec.Subsets.Select(s => s?.TrafficPolicy?.PortLevelSettings.Count ?? 0)),
        new(ResourceKind.Gateway, "spec.servers[].tls.credentialNames", 2, "keep at most two",
            o => ((Gateway)o).Spec.Servers.Select(s => s?.Tls?.CredentialNames.Count ?? 0)),
        new(ResourceKind.AuthorizationPolicy, "spec.targetRefs", 16, "split the policy into several",
            o => [((AuthorizationPolicy)o).Spec.TargetRefs.Count]),
    ];

    private static readonly ILookup<ResourceKind, Limit> ByKind = All.ToLookup(l => l.Kind);

    /// <summary>A list over its limit: its path (with the outer index), length and limit, the fix, and how many other lists
    /// of the object are over theirs.</summary>
    internal sealed record Excess(string Path, int Count, int MaxItems, string Fix, int Others)
    {
        /// <summary><c>150,000 items, more than Istio's CRD allows (256)</c>.</summary>
        public string Items => string.Create(CultureInfo.InvariantCulture, $"{Count:N0} items, more than Istio's CRD allows ({MaxItems:N0})");
    }

    /// <summary>Whether a row bounds lists of <paramref name="kind"/>.</summary>
    public static bool Bounds(ResourceKind kind) => ByKind.Contains(kind);

    /// <summary>The first list of <paramref name="obj"/> longer than its CRD allows (in the order of <see cref="All"/>),
    /// or null. With <paramref name="old"/> (an UPDATE), a list that had this very length in the old version is taken as
    /// unchanged and not judged: the API server's validation ratcheting lets an unchanged value stay, so a stored object
    /// from before the limits can still be labelled or annotated.</summary>
    public static Excess? FirstOver(EgressObject obj, EgressObject? old = null)
    {
        ArgumentNullException.ThrowIfNull(obj);
        if (!ByKind.Contains(obj.ResourceKind))
        {
            return null;
        }

        if (old is not null && old.GetType() != obj.GetType())
        {
            old = null;
        }

        Excess? first = null;
        var count = 0;
        foreach (var limit in ByKind[obj.ResourceKind])
        {
            var before = old is null ? null : limit.Lengths(old).ToList();
            var i = 0;
            foreach (var length in limit.Lengths(obj))
            {
                if (length > limit.MaxItems && (before is null || i >= before.Count || before[i] != length))
                {
                    count++;
                    first ??= new Excess(limit.Path.Replace("[]", $"[{i}]", StringComparison.Ordinal), length, limit.MaxItems, limit.Fix, 0);
                }

                i++;
            }
        }

        return first is null ? null : first with { Others = count - 1 };
    }
}
