using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Tests.Rules;

/// <summary>How the per-rule tests run the engine: manifests as users write them, through the product's one decode path,
/// checked whole (<see cref="Check(string[])"/>) or as one admission (<see cref="CheckChange(string, string[])"/>). Each folder's fixtures
/// class forwards to these, so that its tests need one <c>using static</c>.</summary>
internal static class RuleChecks
{
    public static EgressReport Check(params string[] docs) => Check(RuleSettings.Default, docs);

    public static EgressReport Check(RuleSettings settings, params string[] docs) =>
        EgressEngine.Default.CheckAll(EgressSnapshot.Create(ManifestReader.Read(string.Join("\n---\n", docs), "default")), settings);

    /// <summary>Admission of <paramref name="changed"/> (a create, or an update of the stored object of its name) into the
    /// state <paramref name="existing"/>: its own findings and those it causes on the objects that depend on it.</summary>
    public static EgressReport CheckChange(string changed, params string[] existing) => CheckChange(RuleSettings.Default, changed, existing);

    /// <summary><see cref="CheckChange(string, string[])"/> under <paramref name="settings"/>.</summary>
    public static EgressReport CheckChange(RuleSettings settings, string changed, params string[] existing)
    {
        var snapshot = EgressSnapshot.Create(ManifestReader.Read(string.Join("\n---\n", existing), "default"));
        var obj = Assert.Single(ManifestReader.Read(changed, "default"));
        var old = snapshot.Find(obj.Key);
        return EgressEngine.Default.CheckChange(snapshot, new ObjectChange(old is null ? Operation.Create : Operation.Update, obj, old), settings);
    }

    public static List<Finding> Of(EgressReport report, string rule) => report.Findings.Where(f => f.Rule == rule).ToList();

    /// <summary>A Namespace; <paramref name="labels"/> a YAML map.</summary>
    public static string Namespace(string name, string labels = "{}") => $$"""
        apiVersion: v1
        kind: Namespace
        metadata: {name: {{name}}, labels: {{labels}}}
        """;

    /// <summary>A Service without a selector; <paramref name="ports"/> a YAML list.</summary>
    public static string Service(string name, string ns, string ports) => $$"""
        apiVersion: v1
        kind: Service
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          ports: {{ports}}
        """;

    /// <summary>A namespace-wide Sidecar <c>default</c>: its egress <paramref name="hosts"/> (a YAML list) and, when set,
    /// its outbound traffic policy <paramref name="mode"/>.</summary>
    public static string Sidecar(string ns, string hosts, string mode = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: {{ns}}}
        spec:
          egress:
          - hosts: {{hosts}}
        {{(mode.Length > 0 ? $"  outboundTrafficPolicy: {{mode: {mode}}}" : "")}}
        """;

    /// <summary>A mesh config with <c>serviceEntryVisibility</c>; <paramref name="policies"/> are lines at the policies
    /// list's own indentation.</summary>
    public static string MeshVisibility(string defaultVisibility, string applyToSidecars, params string[] policies) => Mesh(string.Join('\n',
    [
        "serviceEntryVisibility:",
        $"  defaultVisibility: {defaultVisibility}",
        $"  applyToSidecars: {applyToSidecars}",
        policies.Length == 0 ? "  policies: []" : "  policies:",
        .. policies.Select(p => "  " + p),
    ]));

    /// <summary>The mesh ConfigMap (<c>istio-system/istio</c>) with <paramref name="meshYaml"/> as its <c>data.mesh</c>.</summary>
    public static string Mesh(string meshYaml) => $$"""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |-
        {{string.Join('\n', meshYaml.Split('\n').Select(l => "    " + l))}}
        """;
}
