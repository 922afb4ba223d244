using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
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
    /// <summary>Whether traffic gets out: external (via gateways or direct) or passthrough.</summary>
    public bool Reachable => Trace.End is TraceEnd.External or TraceEnd.Passthrough;

    /// <summary><c>via ns/gw</c> (each gateway crossed), <c>direct</c>, <c>passthrough</c>, or how it breaks.</summary>
    public string Path => Trace.End switch
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
/// declares or routes it, by the path <see cref="EgressMap"/> traces (through which gateways, direct, passthrough, or
/// broken), and which EgressPolicies allow it. Pure; bounded by <see cref="EgressMap.MaxTraces"/>.</summary>
public static class HostInventory
{
    /// <summary>The rows of <paramref name="snapshot"/>, in host, port, namespace order; internal ends are left out.</summary>
    public static IReadOnlyList<HostRow> Build(EgressSnapshot snapshot, RuleSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var map = EgressMap.Build(snapshot, settings);
        var policies = PolicySet.Of(SnapshotView.Of(snapshot));
        return map.Traces
            .Where(t => t.End != TraceEnd.Internal)
            .OrderBy(t => t.Host, StringComparer.Ordinal).ThenBy(t => t.Port).ThenBy(t => t.From, StringComparer.Ordinal)
            .Select(t => new HostRow(t, [.. policies.Selecting(t.From).Select(p =>
                new PolicyVerdict(p.Name, PolicyActions.Parse(p.Spec.Action) ?? PolicyActions.Deny, PolicySet.Allows(p, t.Host, t.Port, null)))]))
            .ToList();
    }

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
        sb.Append($"{hosts} external host{(hosts == 1 ? "" : "s")}, {rows.Count} path{(rows.Count == 1 ? "" : "s")}");
        sb.Append($" ({unreachable} broken, {forbidden} reachable but forbidden by a policy).\n");
        return sb.ToString();
    }

    /// <summary><c>{"hosts":[{host, port, from, reachable, end, path, via, allowed, policies:[{name, action, allows}]}]}</c>.</summary>
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
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
