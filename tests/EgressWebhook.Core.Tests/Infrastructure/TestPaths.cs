using System.Reflection;

namespace EgressWebhook.Core.Tests.Infrastructure;

/// <summary>Source-tree paths stamped into the test assembly, so test data is read where git sees it.</summary>
public static class TestPaths
{
    public static string TestData => Metadata("TestDataRoot");

    /// <summary><c>../shared</c> beside the repository.</summary>
    public static string Shared => Metadata("SharedRoot");

    public static string Repo => Metadata("RepoRoot");

    public static string Seed => Path.Combine(Shared, "seed");

    public static string Corpus => Path.Combine(Shared, "istio-corpus");

    public static string Cases => Path.Combine(TestData, "cases");

    private static string Metadata(string key) => Path.GetFullPath(
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!);
}
