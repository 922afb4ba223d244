using System.CommandLine;
using EgressWebhook.Cli.Output;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Reports;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Cli.Commands;

/// <summary><c>kubectl-egress audit [FILES | --kubeconfig K] [-o text|json|yaml]</c>: the webhook's background audit, from a
/// laptop: the whole snapshot checked, as text, the JSON report of <c>check</c>, or the PolicyReports the webhook writes
/// (YAML). Exit 1 when there is an error finding.</summary>
internal static class AuditCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new SnapshotInput();
        var output = new Option<string>("--output", "-o") { Description = "text, json or yaml (wgpolicyk8s.io PolicyReports)", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json", "yaml");
        var maxResults = new Option<int>("--max-results") { Description = "Results per PolicyReport (yaml)", DefaultValueFactory = _ => PolicyReport.DefaultMaxResults };
        maxResults.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100_000)
            {
                r.AddError("--max-results must be from 1 to 100000");
            }
        });

        var command = new Command("audit", "Check a whole cluster (or manifests) as the webhook's background audit does") { output, maxResults };
        input.AddTo(command);
        command.SetAction(parse =>
        {
            var snapshot = input.Load(parse, console);
            var report = EgressEngine.Default.CheckAll(snapshot, input.Settings(parse));
            switch (parse.GetRequiredValue(output))
            {
                case "json":
                    console.Out.WriteLine(ReportJson.Serialize(report));
                    break;
                case "yaml":
                    var reports = PolicyReports.Build(report, snapshot.Objects, parse.GetValue(maxResults));
                    console.Out.Write(reports.Count == 0 ? "" : ManifestWriter.ToYaml(reports.Select(r => r.ToJson())));
                    break;
                default:
                    TextReport.Write(report, console.Out);
                    break;
            }

            return report.Errors > 0 ? ExitCodes.Findings : ExitCodes.Clean;
        });
        return command;
    }
}
