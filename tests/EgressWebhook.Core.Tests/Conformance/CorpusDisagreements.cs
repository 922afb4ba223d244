namespace EgressWebhook.Core.Tests.Conformance;

/// <summary>Corpus files whose verdict the catalogue's Istio semantics contradict. Each is asserted the other way:
/// the named rule must report the error (and no other rule may), so the disagreement stays visible and tested.</summary>
public static class CorpusDisagreements
{
    /// <summary>Path → (rule that reports an error, the Istio semantics behind it).</summary>
    public static IReadOnlyDictionary<string, (string Rule, string Why)> Accepted { get; } = new Dictionary<string, (string, string)>
    {
        // Kiali resolves <svc>.<ns>; Istio's ResolveShortnameToFQDN takes a dotted name as written, so
        // reviews.bookinfo is no registry host and no DestinationRule for reviews.bookinfo.svc.cluster.local applies to it
        ["kiali/virtualservices/subset-presence-matching-subsets-half-fqdn.yaml"] = ("EGW107", "dotted host taken as written"),
        ["kiali/virtualservices/subset-presence-matching-subsets-diff-ns-half-fqdn.yaml"] = ("EGW107", "dotted host taken as written; DR in diff-ns is off the lookup path"),

        // the DR in diff-ns is neither the client's (bookinfo), nor the host's (bookinfo), nor the root namespace:
        // Istio's lookup path never finds it ("will not be found on destination rule lookup path")
        ["kiali/virtualservices/subset-presence-matching-subsets-diff-ns-fqdn.yaml"] = ("EGW107", "DR off the lookup path"),

        // fixtures of Kiali's DestinationRule-side checker (KIA0203); the VirtualService references subsets no
        // DestinationRule defines (v3/v4, very-wrong-v1/v2), which Istio reports as IST0101 and Envoy as a missing cluster
        ["kiali/virtualservices/subset-presence-matching-not-referenced.yaml"] = ("EGW107", "subsets v3/v4 are defined nowhere"),
        ["kiali/virtualservices/subset-presence-wrongly-referenced.yaml"] = ("EGW107", "subsets very-wrong-v1/v2 are defined nowhere"),
    };
}
