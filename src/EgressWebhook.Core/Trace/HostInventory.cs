using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Policy;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Core.Trace;

/// <summary>What one EgressPolicy that selects a row's namespace says about its host and port.</summary>
/// <param name="Policy">The policy's name.</param>
/// <param name="Action"><c>Deny</c>, <c>Warn</c> or <c>Audit</c>.</param>
/// <param name="Allows">Whether its <c>allow</c> list covers the host and port (a policy without one restricts no host).</param>
public sealed record PolicyVerdict(string Policy, string Action, bool Allows);

/// <summary>One external host as a namespace reaches it: the path of its trace and what the policies selecting the
/// namespace say.</summary>
/// <param name="Trace">The traced path (from, host, port, end, gateways crossed).</param>
/// <param name="Policies">The enforceable policies that select <see cref="EgressTrace.From"/>, by name; empty: none.</param>
public sealed record HostRow(EgressTrace Trace, IReadOnlyList<PolicyVerdict> Policies)
{
    /// <summary>A wildcard host (<c>*.example.com</c>): not traced (the path depends on the concrete host under it);
    /// <see cref="Trace"/> has no hops, and its end says only whether the namespace's registry covers the wildcard
    /// (<c>external</c>), or not (<c>passthrough</c> under ALLOW_ANY, <c>blackhole</c> under REGISTRY_ONLY).</summary>
    public bool Wildcard { get; init; }

    /// <summary>Whether traffic gets out: external (via gateways or direct) or passthrough.</summary>
    public bool Reachable => Trace.End is TraceEnd.External or TraceEnd.Passthrough;

    /// <summary><c>via ns/gw</c> (each gateway crossed), <c>direct</c>, <c>passthrough</c>, or how it breaks; for a
    /// wildcard host <c>wildcard (not traced)</c>, with <c>passthrough</c> or <c>blackhole</c> when no entry covers it.</summary>
    public string Path => Wildcard ? (Trace.End == TraceEnd.External ? "wildcard (not traced)" : $"wildcard (not traced, {Trace.EndName})") : Trace.End switch
    {
        TraceEnd.External when Trace.Via.Count == 0 => "direct",
        TraceEnd.External => "via " + string.Join(" → ", Trace.Via),
        _ when Trace.Via.Count > 0 => $"{Trace.EndName} at {Trace.Via[^1]}",
        _ => Trace.EndName,
    };

    /// <summary>Whether every selecting policy allows it (true when none selects the namespace).</summary>
    public bool Allowed => Policies.All(p => p.Allows);

    /// <summary><c>allowed by a, b</c>, <c>forbidden by c (Deny)</c>, or <c>no policy</c>.</summary>
    public string PolicySummary
    {
        get
        {
            if (Policies.Count == 0)
            {
                return "no policy";
            }

            var forbidding = Policies.Where(p => !p.Allows).ToList();
            return forbidding.Count == 0
                ? "allowed by " + string.Join(", ", Policies.Select(p => p.Policy))
                : "forbidden by " + string.Join(", ", forbidding.Select(p => $"{p.Policy} ({p.Action})"));
        }
    }
}

/// <summary><c>kubectl-egress hosts</c>: every external host the snapshot declares or routes, from each namespace that
/// declares or routes it, on every port that namespace's registry has for it, by the path <see cref="EgressTracer"/>
/// traces for that port (through which gateways, direct, passthrough, or broken), and which EgressPolicies allow it.
/// Wildcard hosts get a row per port too, untraced (<see cref="HostRow.Wildcard"/>). Pure; at most
/// <see cref="EgressMap.MaxTraces"/> rows.</summary>
public static class HostInventory
{
    /// <summary>The rows of <paramref name="snapshot"/>, in host, port, namespace order; internal ends are left out.</summary>
    public static IReadOnlyList<HostRow> Build(EgressSnapshot snapshot, RuleSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var context = new RuleContext(SnapshotView.Of(snapshot), settings ?? RuleSettings.Default);
        var policies = PolicySet.Of(context.View);
        var rows = new List<HostRow>();
        foreach (var (host, namespaces) in EgressMap.Clients(context, wildcards: true))
        {
            var wildcard = HostName.IsWildcard(host);
            foreach (var ns in namespaces)
            {
                var scope = new LegScope(ns, true, context.OutboundPolicyFor(ns));
                var targets = context.ResolveDestination(HostName.Resolve(host, ns), scope);
                // every port the namespace's registry has for the host; none registered: the tracer's default port
                IEnumerable<int?> ports = targets.PortNumbers() is { Count: > 0 } registered ? registered.Select(p => (int?)p) : [null];
                foreach (var port in ports)
                {
                    if (rows.Count >= EgressMap.MaxTraces)
                    {
                        return Sorted(rows);
                    }

                    var trace = wildcard ? Untraced(ns, host, port ?? EgressTracer.DefaultPort, targets.Found, scope) : EgressTracer.Default.Trace(context, ns, host, port);
                    if (trace.End == TraceEnd.Internal)
                    {
                        continue;
                    }

                    rows.Add(new HostRow(trace, [.. policies.Selecting(ns).Select(p =>
                        new PolicyVerdict(p.Name, PolicyActions.Parse(p.Spec.Action) ?? PolicyActions.Deny, Allows(p, trace.Host, trace.Port, wildcard)))])
                    { Wildcard = wildcard });
                }
            }
        }

        return Sorted(rows);
    }

    private static List<HostRow> Sorted(List<HostRow> rows) =>
        [.. rows.OrderBy(r => r.Trace.Host, StringComparer.Ordinal).ThenBy(r => r.Trace.Port).ThenBy(r => r.Trace.From, StringComparer.Ordinal)];

    /// <summary>A wildcard host's row: no hops; external when an entry the namespace sees covers it, else the
    /// namespace's fallback for unregistered hosts.</summary>
    private static EgressTrace Untraced(string ns, string host, int port, bool registered, LegScope scope) =>
        registered
            ? new EgressTrace(ns, host, port, TraceEnd.External, [], [], "a wildcard host is not traced: trace a concrete host under it (kubectl-egress trace)")
            : new EgressTrace(ns, host, port, scope.IsRegistryOnly ? TraceEnd.Blackhole : TraceEnd.Passthrough, [], [],
                $"no ServiceEntry {ns} sees covers {host}: {scope.FallbackCluster}");

    /// <summary>Whether <paramref name="policy"/> lets the namespace open the host on the port; a wildcard host must
    /// also be listed by <c>spec.wildcards.allowed</c> when the policy forbids wildcards (EGW303).</summary>
    private static bool Allows(EgressPolicy policy, string host, int port, bool wildcard) =>
        PolicySet.Allows(policy, host, port, null) &&
        !(wildcard && policy.Spec.Wildcards is { Forbid: true } guard && !guard.Allowed.Any(w => PolicySet.Covers(w, host)));

    /// <summary>A table: HOST, FROM, PATH, POLICY, one row each; a last line counts hosts and rows.</summary>
    public static string Text(IReadOnlyList<HostRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return "No external hosts declared or routed.\n";
        }

        string[] header = ["HOST", "FROM", "PATH", "POLICY"];
        var cells = rows.Select(r => new[] { $"{r.Trace.Host}:{r.Trace.Port}", r.Trace.From, r.Path, r.PolicySummary }).ToList();
        var widths = Enumerable.Range(0, 3).Select(i => Math.Max(header[i].Length, cells.Max(c => c[i].Length))).ToArray();
        var sb = new StringBuilder();
        foreach (var line in cells.Prepend(header))
        {
            sb.Append(line[0].PadRight(widths[0])).Append("  ").Append(line[1].PadRight(widths[1])).Append("  ")
              .Append(line[2].PadRight(widths[2])).Append("  ").Append(line[3]).Append('\n');
        }

        var hosts = rows.Select(r => r.Trace.Host).Distinct(StringComparer.Ordinal).Count();
        var unreachable = rows.Count(r => !r.Reachable);
        var forbidden = rows.Count(r => r.Reachable && !r.Allowed);
        var wildcards = rows.Count(r => r.Wildcard);
        sb.Append($"{hosts} external host{(hosts == 1 ? "" : "s")}, {rows.Count} path{(rows.Count == 1 ? "" : "s")}");
        sb.Append($" ({unreachable} broken, {forbidden} reachable but forbidden by a policy");
        sb.Append(wildcards == 0 ? ").\n" : $", {wildcards} of wildcard hosts, not traced).\n");
        if (rows.Count >= EgressMap.MaxTraces)
        {
            sb.Append($"Listing stopped at {EgressMap.MaxTraces} paths; give fewer files or namespaces to see the rest.\n");
        }

        return sb.ToString();
    }

    /// <summary><c>{"hosts":[{host, port, from, reachable, end, path, wildcard, via, allowed, policies:[{name, action, allows}]}], "truncated"}</c>;
    /// <c>truncated</c> when the listing stopped at <see cref="EgressMap.MaxTraces"/> paths.</summary>
    public static string Json(IReadOnlyList<HostRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("hosts");
            foreach (var r in rows)
            {
                writer.WriteStartObject();
                writer.WriteString("host", r.Trace.Host);
                writer.WriteNumber("port", r.Trace.Port);
                writer.WriteString("from", r.Trace.From);
                writer.WriteBoolean("reachable", r.Reachable);
                writer.WriteString("end", r.Trace.EndName);
                writer.WriteString("path", r.Path);
                writer.WriteBoolean("wildcard", r.Wildcard);
                writer.WriteStartArray("via");
                foreach (var v in r.Trace.Via)
                {
                    writer.WriteStringValue(v);
                }

                writer.WriteEndArray();
                writer.WriteBoolean("allowed", r.Allowed);
                writer.WriteStartArray("policies");
                foreach (var p in r.Policies)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", p.Policy);
                    writer.WriteString("action", p.Action);
                    writer.WriteBoolean("allows", p.Allows);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteBoolean("truncated", rows.Count >= EgressMap.MaxTraces);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
