using System.CommandLine;
using EgressWebhook.Core.Trace;

namespace EgressWebhook.Cli.Commands;

/// <summary><c>kubectl-egress graph [FILES | --kubeconfig K] -o dot|mermaid</c>: the egress map. SVG is not drawn here (no
/// maintained .NET graph layout library is cheap to use): <c>-o svg</c> says to pipe DOT through Graphviz.</summary>
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
            if (format == "svg")
            {
                throw new InputException("-o svg is not built in: run kubectl-egress graph -o dot ... | dot -Tsvg (Graphviz)");
            }

            var map = EgressMap.Build(input.Load(parse, console), input.Settings(parse));
            console.Out.Write(format == "mermaid" ? MapFormat.Mermaid(map) : MapFormat.Dot(map));
            return ExitCodes.Clean;
        });
        return command;
    }
}
