using System.Reflection;

namespace EgressWebhook.Server.Tests.Infrastructure;

/// <summary>Source-tree paths stamped into the test assembly.</summary>
public static class TestPaths
{
    public static string TestData => Metadata("TestDataRoot");

    public static string Shared => Metadata("SharedRoot");

    public static string Repo => Metadata("RepoRoot");

    public static string Seed => Path.Combine(Shared, "seed");

    public static string Cases => Path.Combine(TestData, "cases");

    public static string Admission => Path.Combine(TestData, "admission");

    public static string Examples => Path.Combine(Repo, "examples");

    private static string Metadata(string key) => Path.GetFullPath(
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!);
}
