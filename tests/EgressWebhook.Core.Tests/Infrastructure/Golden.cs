namespace EgressWebhook.Core.Tests.Infrastructure;

/// <summary>Compares output with a checked-in golden file; <c>EGRESS_UPDATE_GOLDEN=1</c> rewrites it instead.</summary>
public static class Golden
{
    public static void AssertMatches(string path, string actual)
    {
        actual = actual.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd() + "\n";
        if (Environment.GetEnvironmentVariable("EGRESS_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"golden file {path} is missing; run with EGRESS_UPDATE_GOLDEN=1 and review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
