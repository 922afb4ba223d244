using System.Net;
using System.Text.Json;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Endpoints;

/// <summary>Server-specific reviews in <c>tests/testdata/admission/&lt;name&gt;.review.json</c>, each with the parts of the
/// answer it pins in <c>&lt;name&gt;.expected.json</c> (status, allowed, decision, apiVersion, messageContains, bodyContains).</summary>
public sealed class AdmissionFixtureTests(AdmissionFixtureTests.SeedServer server) : IClassFixture<AdmissionFixtureTests.SeedServer>
{
    public static TheoryData<string> Fixtures => new(Directory.GetFiles(TestPaths.Admission, "*.review.json")
        .Select(f => Path.GetFileName(f)[..^".review.json".Length]).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Validate_Fixture_AnswersAsPinned(string name)
    {
        var body = await File.ReadAllTextAsync(Path.Combine(TestPaths.Admission, name + ".review.json"));
        var expected = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestPaths.Admission, name + ".expected.json"))).RootElement;

        var result = await server.Server.PostAsync(body);

        Assert.Equal((HttpStatusCode)expected.GetProperty("status").GetInt32(), result.Status);
        if (expected.TryGetProperty("bodyContains", out var text))
        {
            Assert.Contains(text.GetString()!, result.Body, StringComparison.Ordinal);
        }

        if (result.Status != HttpStatusCode.OK)
        {
            return;
        }

        var uid = JsonDocument.Parse(body).RootElement.GetProperty("request").GetProperty("uid").GetString()!;
        var apiVersion = expected.TryGetProperty("apiVersion", out var v) ? v.GetString()! : Reviews.V1;
        AdmissionCases.AssertWellFormed(result, uid, apiVersion);
        Assert.Equal(expected.GetProperty("allowed").GetBoolean(), result.Allowed);
        if (expected.TryGetProperty("decision", out var decision))
        {
            Assert.Equal(decision.GetString(), result.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
        }

        if (expected.TryGetProperty("messageContains", out var message))
        {
            Assert.Contains(message.GetString()!, result.StatusMessage!, StringComparison.Ordinal);
        }
    }

    public sealed class SeedServer : IAsyncLifetime
    {
        public WebhookServer Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await WebhookServer.StartAsync();

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }
}
