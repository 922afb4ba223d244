using System.CommandLine;
using EgressWebhook.Cli.Output;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Cli.Commands;

/// <summary><c>kubectl-egress check PATH... [--outbound-policy] [-o text|json] [--fail-on error|warning]</c>.</summary>
internal static class CheckCommand
{
    public static Command Create(CliConsole console)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Manifest files, directories (recursively *.yaml, *.yml, *.json) or - for standard input",
            Arity = ArgumentArity.OneOrMore,
        };
        var outbound = new Option<string?>("--outbound-policy")
        {
            Description = "ALLOW_ANY or REGISTRY_ONLY, in place of a mesh config among the inputs (default ALLOW_ANY)",
        };
        outbound.AcceptOnlyFromAmong(OutboundPolicies.AllowAny, OutboundPolicies.RegistryOnly);
        var output = new Option<string>("--output", "-o") { Description = "text or json", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var failOn = new Option<string>("--fail-on") { Description = "error or warning: lowest severity that exits 1", DefaultValueFactory = _ => "error" };
        failOn.AcceptOnlyFromAmong("error", "warning");

        var command = new Command("check", "Check manifests for broken egress links, with the webhook's rules")
        {
            paths, outbound, output, failOn,
        };
        command.SetAction(parse =>
        {
            var objects = InputLoader.Load(parse.GetRequiredValue(paths), console.In);
            var policy = EgressPolicy.Default with { OutboundPolicy = parse.GetValue(outbound) };
            var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), policy);

            if (parse.GetRequiredValue(output) == "json")
            {
                console.Out.WriteLine(ReportJson.Serialize(report));
            }
            else
            {
                TextReport.Write(report, console.Out);
            }

            var threshold = parse.GetRequiredValue(failOn) == "warning" ? report.Findings.Count : report.Errors;
            return threshold > 0 ? ExitCodes.Findings : ExitCodes.Clean;
        });
        return command;
    }
}
