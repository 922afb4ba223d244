using System.CommandLine;
using System.Globalization;
using EgressWebhook.Core.Istio;
using EgressWebhook.Core.Trace;

namespace EgressWebhook.Cli.Commands;

/// <summary><c>kubectl-egress trace --from NAMESPACE HOST[:PORT] [FILES | --kubeconfig K] [-o text|json]</c>: the path Envoy
/// takes for the request, hop by hop. Exit 0 when it arrives (external, passthrough, internal), 1 when it is lost
/// (blackhole, dropped, loop), 2 on bad input.</summary>
internal static class TraceCommand
{
    public static Command Create(CliConsole console)
    {
        var from = new Option<string>("--from") { Description = "Namespace of the client sidecar", Required = true };
        var target = new Argument<string>("HOST[:PORT]") { Description = "Requested host and port (default port: the lowest the registry declares, else 443)" };
        var input = new SnapshotInput();
        var output = new Option<string>("--output", "-o") { Description = "text or json", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");

        var command = new Command("trace", "Show where a request from a namespace goes: through an egress gateway, direct, PassthroughCluster or BlackHoleCluster")
        {
            from, target, output,
        };
        input.AddTo(command);
        command.SetAction(parse =>
        {
            var (host, port) = ParseTarget(parse.GetRequiredValue(target));
            var ns = parse.GetRequiredValue(from);
            if (ns.Length == 0 || ns.Length > 63 || !ns.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                throw new InputException($"--from {ns}: not a namespace name");
            }

            var snapshot = input.Load(parse, console);
            var trace = EgressTracer.Default.Trace(snapshot, ns, host, port, input.Settings(parse));
            console.Out.Write(parse.GetRequiredValue(output) == "json" ? TraceFormat.Json(trace) + "\n" : TraceFormat.Text(trace));
            return trace.IsBroken ? ExitCodes.Findings : ExitCodes.Clean;
        });
        return command;
    }

    /// <summary><c>host</c> or <c>host:port</c>; a bad port or an empty or overlong host is bad input.</summary>
    internal static (string Host, int? Port) ParseTarget(string value)
    {
        var colon = value.LastIndexOf(':');
        var host = colon < 0 ? value : value[..colon];
        int? port = null;
        if (colon >= 0)
        {
            if (!int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                throw new InputException($"{value}: the port must be a number from 1 to 65535");
            }

            port = p;
        }

        if (host.Length == 0 || HostName.IsOverlong(host) || host.Contains('/', StringComparison.Ordinal) || HostName.IsWildcard(host))
        {
            throw new InputException($"{value}: expected HOST[:PORT] with a host name (no wildcard)");
        }

        return (host.ToLowerInvariant(), port);
    }
}
