using System.CommandLine;
using EgressWebhook.Core.Trace;

namespace EgressWebhook.Cli.Commands;

/// <summary><c>kubectl-egress hosts [FILES | --kubeconfig K] [-o text|json] [--forbidden]</c>: every external host
/// reachable, from which namespaces, by which path, allowed by which EgressPolicy (<see cref="HostInventory"/>).
/// Exit 0; 1 with <c>--forbidden</c> when a reachable path is forbidden by a policy.</summary>
internal static class HostsCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new SnapshotInput();
        var output = new Option<string>("--output", "-o") { Description = "text or json", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var forbidden = new Option<bool>("--forbidden") { Description = "Exit 1 when a reachable host is forbidden by an EgressPolicy" };
        var command = new Command("hosts", "List every external host reachable: from which namespaces, by which path (gateway, direct, passthrough), allowed by which EgressPolicy")
        {
            output, forbidden,
        };
        input.AddTo(command);
        command.SetAction(parse =>
        {
            var rows = HostInventory.Build(input.Load(parse, console), input.Settings(parse));
            console.Out.Write(parse.GetRequiredValue(output) == "json" ? HostInventory.Json(rows) : HostInventory.Text(rows));
            return parse.GetValue(forbidden) && rows.Any(r => r.Reachable && !r.Allowed) ? ExitCodes.Findings : ExitCodes.Clean;
        });
        return command;
    }
}
