using System.Reflection;

namespace EgressWebhook.Deploy.Tests.Infrastructure;

/// <summary>Source-tree paths stamped into the test assembly (tests/Directory.Build.props).</summary>
public static class RepoPaths
{
    public static string Root { get; } = Path.GetFullPath(
        typeof(RepoPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!);

    public static string Deploy => Path.Combine(Root, "deploy");

    public static string Overlay(string name) => Path.Combine(Deploy, "overlays", name);

    public static string Of(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));
}
