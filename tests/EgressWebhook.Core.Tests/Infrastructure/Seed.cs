using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;

namespace EgressWebhook.Core.Tests.Infrastructure;

/// <summary>The seed's working setup (<c>../shared/seed/*.yaml</c>), read fresh for each test.</summary>
public static class Seed
{
    public static List<EgressObject> Objects() =>
        Directory.GetFiles(TestPaths.Seed, "*.yaml").Order(StringComparer.Ordinal)
            .SelectMany(f => ManifestReader.Read(File.ReadAllText(f))).ToList();
}
