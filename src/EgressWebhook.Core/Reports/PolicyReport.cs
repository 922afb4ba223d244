using System.Text.Json.Nodes;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Core.Reports;

/// <summary>The counts of a report (<c>summary</c> of <c>wgpolicyk8s.io/v1alpha2</c>).</summary>
/// <param name="Pass">Objects of the report's scope checked without any finding.</param>
/// <param name="Fail">Error findings (the webhook would deny).</param>
/// <param name="Warn">Warning findings.</param>
/// <param name="Error">Checks that could not run (always 0: a rule never fails to run).</param>
/// <param name="Skip">Checks turned off (always 0: a rule turned off leaves no trace).</param>
public sealed record PolicyReportSummary(int Pass, int Fail, int Warn, int Error, int Skip);

/// <summary>One finding as a PolicyReport result.</summary>
/// <param name="Finding">The finding.</param>
public sealed record PolicyReportResult(Finding Finding)
{
    /// <summary><c>fail</c> for an error, <c>warn</c> for a warning.</summary>
    public string Result => Finding.Severity == Rules.Severity.Error ? "fail" : "warn";

    /// <summary><c>high</c> for an error, <c>medium</c> for a warning.</summary>
    public string Severity => Finding.Severity == Rules.Severity.Error ? "high" : "medium";
}

/// <summary>A <c>wgpolicyk8s.io/v1alpha2</c> PolicyReport (one namespace) or ClusterPolicyReport (objects without a
/// namespace), the format Kyverno and Policy Reporter read.</summary>
/// <param name="Namespace">The namespace; null for the ClusterPolicyReport.</param>
/// <param name="Summary">Counts over every finding of the scope, results omitted or not.</param>
/// <param name="Results">At most the bound's number of results, in <see cref="Finding.Order"/>.</param>
/// <param name="Omitted">Findings left out of <see cref="Results"/> by the bound.</param>
public sealed record PolicyReport(string? Namespace, PolicyReportSummary Summary, IReadOnlyList<PolicyReportResult> Results, int Omitted)
{
    public const string Group = "wgpolicyk8s.io";

    public const string Version = "v1alpha2";

    public const string ApiVersion = Group + "/" + Version;

    /// <summary>The name of every report the project writes (one per namespace, one cluster report).</summary>
    public const string ReportName = "egress-webhook";

    /// <summary>The <c>source</c> of every result.</summary>
    public const string Source = "egress-webhook";

    /// <summary>The annotation that says how many results the bound left out.</summary>
    public const string OmittedAnnotation = "egress.istio.io/omitted-results";

    /// <summary>The default bound on results per report.</summary>
    public const int DefaultMaxResults = 1000;

    /// <summary><c>PolicyReport</c> or <c>ClusterPolicyReport</c>.</summary>
    public string Kind => Namespace is null ? "ClusterPolicyReport" : "PolicyReport";

    /// <summary>The plural of <see cref="Kind"/> in API paths.</summary>
    public string Plural => Namespace is null ? "clusterpolicyreports" : "policyreports";

    /// <summary>The report as a Kubernetes object (deterministic: no timestamps, results in finding order).</summary>
    public JsonObject ToJson()
    {
        var metadata = new JsonObject { ["name"] = ReportName };
        if (Namespace is not null)
        {
            metadata["namespace"] = Namespace;
        }

        metadata["labels"] = new JsonObject { [ManagedBy.Label] = ManagedBy.Value };
        if (Omitted > 0)
        {
            metadata["annotations"] = new JsonObject { [OmittedAnnotation] = Omitted.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        }

        var results = new JsonArray();
        foreach (var r in Results)
        {
            var f = r.Finding;
            var resource = new JsonObject { ["apiVersion"] = ApiVersionOf(f.Object.Kind), ["kind"] = KubernetesKind(f.Object.Kind) };
            if (f.Object.Namespace.Length > 0)
            {
                resource["namespace"] = f.Object.Namespace;
            }

            resource["name"] = f.Object.Name;
            var properties = new JsonObject { ["path"] = f.Path, ["kind"] = f.Kind == FindingKind.Incompleteness ? "incompleteness" : "contradiction" };
            if (f.Related.Count > 0)
            {
                properties["related"] = string.Join(", ", f.Related);
            }

            if (f.Awaits is { } awaits)
            {
                properties["awaits"] = awaits.What;
            }

            results.Add((JsonNode)new JsonObject
            {
                ["source"] = Source,
                ["policy"] = f.Rule,
                ["rule"] = f.Rule,
                ["category"] = "Istio egress",
                ["result"] = r.Result,
                ["severity"] = r.Severity,
                ["scored"] = true,
                ["message"] = f.Message,
                ["resources"] = new JsonArray(resource),
                ["properties"] = properties,
            });
        }

        return new JsonObject
        {
            ["apiVersion"] = ApiVersion,
            ["kind"] = Kind,
            ["metadata"] = metadata,
            ["summary"] = new JsonObject
            {
                ["pass"] = Summary.Pass,
                ["fail"] = Summary.Fail,
                ["warn"] = Summary.Warn,
                ["error"] = Summary.Error,
                ["skip"] = Summary.Skip,
            },
            ["results"] = results,
        };
    }

    /// <summary>The Kubernetes kind of a finding's object (the mesh config is a ConfigMap).</summary>
    private static string KubernetesKind(string kind) => KindTable.All.FirstOrDefault(r => r.Kind.ToString() == kind)?.KindName ?? kind;

    private static string ApiVersionOf(string kind) => KindTable.All.FirstOrDefault(r => r.Kind.ToString() == kind)?.PreferredApiVersion ?? "v1";
}

/// <summary>Builds the PolicyReports of a whole-snapshot check.</summary>
public static class PolicyReports
{
    /// <summary>One PolicyReport per namespace with a finding and one ClusterPolicyReport when an object without a namespace
    /// has one; a scope without findings gets none (its report is removed). Namespaces in ordinal order, the cluster report
    /// last; at most <paramref name="maxResults"/> results each.</summary>
    public static IReadOnlyList<PolicyReport> Build(EgressReport report, IEnumerable<EgressObject> objects, int maxResults = PolicyReport.DefaultMaxResults)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(objects);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxResults);

        var withFindings = report.Findings.Select(f => (f.Object.Kind, f.Object.Namespace, f.Object.Name)).ToHashSet();
        var passes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var obj in objects)
        {
            if (!withFindings.Contains((obj.Ref.Kind, obj.Ref.Namespace, obj.Ref.Name)))
            {
                passes[obj.Namespace] = passes.GetValueOrDefault(obj.Namespace) + 1;
            }
        }

        var result = new List<PolicyReport>();
        foreach (var group in report.Findings.GroupBy(f => f.Object.Namespace, StringComparer.Ordinal)
                     .OrderBy(g => g.Key.Length == 0 ? 1 : 0).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            var findings = group.Order(Finding.Order).ToList();
            var summary = new PolicyReportSummary(passes.GetValueOrDefault(group.Key), findings.Count(f => f.Severity == Severity.Error),
                findings.Count(f => f.Severity == Severity.Warning), 0, 0);
            result.Add(new PolicyReport(group.Key.Length == 0 ? null : group.Key, summary,
                findings.Take(maxResults).Select(f => new PolicyReportResult(f)).ToList(), Math.Max(0, findings.Count - maxResults)));
        }

        return result;
    }
}
