using System.CommandLine;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Rules;
using EgressWebhook.Core.Snapshot;

namespace EgressWebhook.Cli;

/// <summary>Where a whole-snapshot command reads from: manifest FILES, or <c>--kubeconfig K</c> (the cluster, read-only),
/// with the optional <c>--outbound-policy</c> override.</summary>
internal sealed class SnapshotInput
{
    public Argument<string[]> Paths { get; } = new("FILES")
    {
        Description = "Manifest files, directories (recursively *.yaml, *.yml, *.json) or - for standard input",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public Option<string?> Kubeconfig { get; } = new("--kubeconfig") { Description = "Read the cluster of this kubeconfig (list only, nothing is written)" };

    public Option<string?> Context { get; } = new("--context") { Description = "The kubeconfig context to use (default: its current context)" };

    public Option<string?> Outbound { get; } = new("--outbound-policy")
    {
        Description = "ALLOW_ANY or REGISTRY_ONLY, in place of the mesh config read (default: the mesh config, else ALLOW_ANY)",
    };

    public SnapshotInput() => Outbound.AcceptOnlyFromAmong(OutboundPolicies.AllowAny, OutboundPolicies.RegistryOnly);

    /// <summary>Adds the argument and options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Arguments.Add(Paths);
        command.Options.Add(Kubeconfig);
        command.Options.Add(Context);
        command.Options.Add(Outbound);
    }

    /// <summary>Whether the input is a whole cluster (absence of an object is then evidence).</summary>
    public bool IsCluster(ParseResult parse) => !string.IsNullOrEmpty(parse.GetValue(Kubeconfig));

    /// <summary>The rule settings the input asks for.</summary>
    public RuleSettings Settings(ParseResult parse) =>
        RuleSettings.Default with { OutboundPolicy = parse.GetValue(Outbound), WholeCluster = IsCluster(parse) };

    /// <summary>Reads the snapshot: the files, or the cluster. Neither or both is bad input.</summary>
    public EgressSnapshot Load(ParseResult parse, CliConsole console)
    {
        var paths = parse.GetValue(Paths) ?? [];
        var kubeconfig = parse.GetValue(Kubeconfig);
        if (string.IsNullOrEmpty(kubeconfig))
        {
            return paths.Length == 0
                ? throw new InputException("give manifest FILES or --kubeconfig K")
                : EgressSnapshot.Create(InputLoader.Load(paths, console.In));
        }

        if (paths.Length > 0)
        {
            throw new InputException("give manifest FILES or --kubeconfig K, not both");
        }

        return EgressSnapshot.Create(ClusterReader.Read(kubeconfig, parse.GetValue(Context)));
    }
}
