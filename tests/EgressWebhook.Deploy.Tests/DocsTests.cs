using System.Text.RegularExpressions;
using EgressWebhook.Deploy.Tests.Infrastructure;

namespace EgressWebhook.Deploy.Tests;

/// <summary>docs/deploy.md points at files that exist and tells the safe order of operations.</summary>
public sealed partial class DocsTests
{
    private static readonly string Text = File.ReadAllText(RepoPaths.Of("docs/deploy.md"));

    [Fact]
    public void DeployDoc_NamesOnlyPathsThatExist()
    {
        // certs/out is made by the script, not committed.
        var paths = RepoPath().Matches(Text).Select(m => m.Value).Where(p => !p.StartsWith("certs/out", StringComparison.Ordinal)).Distinct().ToArray();

        Assert.NotEmpty(paths);
        Assert.All(paths, p => Assert.True(File.Exists(RepoPaths.Of(p)) || Directory.Exists(RepoPaths.Of(p)), $"docs/deploy.md names {p}, which does not exist"));
    }

    [Fact]
    public void DeployDoc_InstallsTheDefaultOverlay()
    {
        Assert.Contains("kubectl apply -k deploy/overlays/default", Text);
        Assert.Contains("kubectl apply -k deploy/overlays/audit-only", Text);
    }

    [Fact]
    public void DeployDoc_UninstallDeletesTheWebhookConfigurationsFirst()
    {
        var uninstall = Text[Text.IndexOf("## Uninstall", StringComparison.Ordinal)..];
        var deletes = uninstall.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("kubectl delete", StringComparison.Ordinal)).ToArray();

        Assert.True(deletes.Length >= 2);
        Assert.Contains("validatingwebhookconfiguration", deletes[0]);
        Assert.Contains("mutatingwebhookconfiguration", deletes[0]);
    }

    [GeneratedRegex(@"(?<![\w/.-])(deploy|certs)/[\w./-]*[\w]")]
    private static partial Regex RepoPath();
}
