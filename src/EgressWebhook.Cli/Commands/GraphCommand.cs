using System.CommandLine;
using EgressWebhook.Core.Trace;

namespace EgressWebhook.Cli.Commands;

/// <summary><c>kubectl-egress graph [FILES | --kubeconfig K] -o dot|mermaid|svg</c>: the egress map (SVG drawn by
/// <see cref="MapFormat.Svg"/>, a layered layout of its own; no Graphviz needed).</summary>
internal static class GraphCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new SnapshotInput();
        var output = new Option<string>("--output", "-o") { Description = "dot, mermaid or svg", DefaultValueFactory = _ => "dot" };
        output.AcceptOnlyFromAmong("dot", "mermaid", "svg");
        var command = new Command("graph", "Draw the egress map: namespaces, gateways, external hosts; direct, passthrough and broken paths") { output };
        input.AddTo(command);
        command.SetAction(parse =>
        {
            var format = parse.GetRequiredValue(output);
            var map = EgressMap.Build(input.Load(parse, console), input.Settings(parse));
            console.Out.Write(format switch { "mermaid" => MapFormat.Mermaid(map), "svg" => MapFormat.Svg(map), _ => MapFormat.Dot(map) });
            return ExitCodes.Clean;
        });
        return command;
    }
}
