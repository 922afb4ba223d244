namespace EgressWebhook.Server.Tests.Fakes;

/// <summary>A kubeconfig file for the in-process fake API server, with a bearer token, as a developer's
/// <c>--kubeconfig</c> would be. The caller deletes it.</summary>
internal static class FakeKubeconfig
{
    public const string Token = "test-token";

    public static async Task<string> WriteAsync(string serverUrl)
    {
        var path = Path.Combine(Path.GetTempPath(), $"egress-webhook-{Guid.NewGuid():N}.kubeconfig");
        await File.WriteAllTextAsync(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {serverUrl}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: fake
            current-context: fake
            users:
            - name: fake
              user:
                token: {Token}
            """);
        return path;
    }
}
