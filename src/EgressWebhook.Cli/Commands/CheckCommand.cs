using System.CommandLine;
using EgressWebhook.Cli.Output;
using EgressWebhook.Core.Engine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Serialization;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Cli.Commands;

/// <summary><c>kubectl-egress check PATH... [--outbound-policy] [-o text|json] [--fail-on error|warning] [--rule EGWnnn=deny|warn|off]... [--policy FILE]...</c>.</summary>
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
        var rules = new Option<string[]>("--rule")
        {
            Description = "EGWnnn=deny|warn|off: per-rule enforcement, as the webhook's Webhook:Rules (repeatable)",
        };
        rules.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (ParseRule(token.Value) is null)
                {
                    result.AddError($"--rule {token.Value}: expected EGWnnn=deny, EGWnnn=warn or EGWnnn=off with a rule id of docs/rules.md (EGW1xx or EGW2xx)");
                    return;
                }
            }
        });

        var policies = new Option<string[]>("--policy")
        {
            Description = "A file or directory of EgressPolicy objects to enforce (EGW3xx), in addition to those among PATH (repeatable)",
        };

        var command = new Command("check", "Check manifests for broken egress links, with the webhook's rules")
        {
            paths, outbound, output, failOn, rules, policies,
        };
        command.SetAction(parse =>
        {
            var objects = InputLoader.Load(parse.GetRequiredValue(paths), console.In);
            if (parse.GetValue(policies) is { Length: > 0 } policyFiles)
            {
                // only the policies of these files: the objects they are checked against come from PATH
                objects = [.. objects, .. InputLoader.Load(policyFiles, console.In).OfType<EgressPolicy>()];
            }

            var policy = RuleSettings.Default with
            {
                OutboundPolicy = parse.GetValue(outbound),
                // a later --rule for the same id wins, as a later setting does in configuration
                Overrides = (parse.GetValue(rules) ?? []).Select(r => ParseRule(r)!.Value)
                    .GroupBy(r => r.Rule, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Enforcement, StringComparer.Ordinal),
            };
            var report = EgressEngine.Default.CheckAll(EgressSnapshot.Create(objects), policy);

            if (parse.GetRequiredValue(output) == "json")
            {
                console.Out.WriteLine(ReportJson.Serialize(report));
            }
            else
            {
                TextReport.Write(report, console.Out);
            }

            // an Audit policy's findings are recorded, never a failure
            var threshold = parse.GetRequiredValue(failOn) == "warning" ? report.Findings.Count(f => !f.Audit) : report.Errors;
            return threshold > 0 ? ExitCodes.Findings : ExitCodes.Clean;
        });
        return command;
    }

    /// <summary><c>EGW105=warn</c> → (EGW105, Warn); null when the id or the enforcement is unknown.</summary>
    private static (string Rule, Enforcement Enforcement)? ParseRule(string value)
    {
        var parts = value.Split('=', 2, StringSplitOptions.TrimEntries);
        return parts.Length == 2 && RuleCatalog.EnforceableIds.Contains(parts[0]) && Enum.TryParse<Enforcement>(parts[1], ignoreCase: true, out var enforcement)
               && Enum.IsDefined(enforcement)
            ? (parts[0].ToUpperInvariant(), enforcement)
            : null;
    }
}
