using System.Text.Json.Nodes;
using EgressWebhook.Server.Endpoints;
using EgressWebhook.Server.Options;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EgressWebhook.Server.Tests.Endpoints;

/// <summary>Large reviews are decided a bounded number of bytes at a time; smaller ones never wait; one whose deadline
/// passes in the queue is answered per the failure mode, undecided.</summary>
public sealed class LargeReviewGateTests
{
    private const int MiB = 1024 * 1024;

    private static LargeReviewGate Gate(long threshold = 256 * 1024, long inFlight = 6 * MiB) =>
        new(new LimitsOptions { LargeReviewBytes = threshold, LargeReviewBytesInFlight = inFlight });

    [Theory]
    [InlineData(256 * 1024L, false)]
    [InlineData(256 * 1024L + 1, true)]
    [InlineData(null, true)] // chunked: its length is known only once read
    public void MayWait_ByTheDeclaredLength(long? length, bool mayWait)
    {
        using var gate = Gate();

        Assert.Equal(mayWait, gate.MayWait(length));
    }

    [Fact]
    public async Task EnterAsync_SmallReviews_NeverWait()
    {
        using var gate = Gate();
        using var full = await gate.EnterAsync(6 * MiB, CancellationToken.None);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        using var small = await gate.EnterAsync(256 * 1024, cancelled.Token);

        Assert.False(small.Waited);
        Assert.Null(small.Lease);
        Assert.Equal(6 * MiB, gate.InFlightBytes);
    }

    [Fact]
    public async Task EnterAsync_OverTheBudget_WaitsOldestFirstUntilRoomIsLeft()
    {
        using var gate = Gate();
        var first = await gate.EnterAsync(3 * MiB, CancellationToken.None);
        var second = await gate.EnterAsync(3 * MiB, CancellationToken.None);
        var third = gate.EnterAsync(3 * MiB, CancellationToken.None).AsTask();
        var fourth = gate.EnterAsync(MiB, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(third.IsCompleted);
        Assert.False(fourth.IsCompleted, "a smaller review does not overtake an older one");
        Assert.Equal(6 * MiB, gate.InFlightBytes);

        first.Dispose();
        using var thirdEntry = await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(thirdEntry.Waited);
        Assert.NotNull(thirdEntry.Lease);
        Assert.False(fourth.IsCompleted);

        second.Dispose();
        using var fourthEntry = await fourth.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(fourthEntry.Waited);
        Assert.Equal(4 * MiB, gate.InFlightBytes);
    }

    [Fact]
    public async Task EnterAsync_DeadlinePassesWhileWaiting_WaitedAndNothingHeld()
    {
        using var gate = Gate();
        using (await gate.EnterAsync(6 * MiB, CancellationToken.None))
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            using var late = await gate.EnterAsync(MiB, deadline.Token);

            Assert.True(late.Waited);
            Assert.Null(late.Lease);
        }

        Assert.Equal(0, gate.InFlightBytes);
    }

    [Fact]
    public async Task EnterAsync_LargerThanTheBudget_WaitsForAllOfIt()
    {
        using var gate = Gate(inFlight: 4 * MiB);
        using (await gate.EnterAsync(MiB, CancellationToken.None))
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            Assert.True((await gate.EnterAsync(64 * MiB, deadline.Token)).Waited);
        }

        using var huge = await gate.EnterAsync(64 * MiB, CancellationToken.None);
        Assert.False(huge.Waited);
        Assert.Equal(4 * MiB, gate.InFlightBytes);
    }

    [Fact]
    public void EnvelopeInfo_SkipsTheObjects_KeepsWhatTheAnswerAndTheAuditRead()
    {
        var review = Reviews.Create("UPDATE", Reviews.VirtualService("v"), Reviews.VirtualService("v"), uid: "u-1");

        var envelope = System.Text.Json.JsonSerializer.Deserialize(review, AdmissionBody.EnvelopeInfo)!;

        Assert.Equal(("u-1", "UPDATE", "VirtualService"), (envelope.Request!.Uid, envelope.Request.Operation, envelope.Request.Kind?.Kind));
        Assert.Null(envelope.Request.Object);
        Assert.Null(envelope.Request.OldObject);
        Assert.Equal(Reviews.V1, envelope.ApiVersion);
    }

    [Fact]
    public async Task Validate_LargeReviewWhileTheBudgetIsTaken_AnsweredPerFailureModeUndecided_ThenDecided()
    {
        await using var server = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:FailureMode"] = "Deny" });
        var gate = server.Services.GetRequiredService<LargeReviewGate>();
        var review = Reviews.Create("CREATE", Reviews.VirtualService("large", ("note", new string('x', 300 * 1024))), uid: "large-1");

        AdmissionResult waited;
        // the whole budget taken (the default: 4 MiB)
        using (await gate.EnterAsync(64 * MiB, CancellationToken.None))
        {
            waited = await server.PostAsync(review, "/validate?timeout=2s");
        }

        AdmissionCases.AssertWellFormed(waited, "large-1", Reviews.V1);
        Assert.False(waited.Allowed);
        Assert.Equal(500, waited.StatusCode);
        Assert.Contains("its deadline passed while it waited its turn among the large reviews (at most 4194304 bytes decided at once)", waited.StatusMessage!, StringComparison.Ordinal);

        var decided = await server.PostAsync(review.Replace("large-1", "large-2", StringComparison.Ordinal), "/validate?timeout=2s");
        AdmissionCases.AssertWellFormed(decided, "large-2", Reviews.V1);
        Assert.True(decided.Allowed);
        Assert.Equal(0, gate.InFlightBytes);
        var audit = await File.ReadAllLinesAsync(server.AuditFile);
        Assert.Contains(audit, line => line.Contains("\"large-1\"", StringComparison.Ordinal) && line.Contains("\"failed\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Validate_ClientLeavesWhileItsReviewWaits_NothingAnsweredOrAudited()
    {
        await using var server = await WebhookServer.StartAsync();
        var gate = server.Services.GetRequiredService<LargeReviewGate>();
        var review = Reviews.Create("CREATE", Reviews.VirtualService("large", ("note", new string('x', 300 * 1024))), uid: "gone-1");

        using (await gate.EnterAsync(64 * MiB, CancellationToken.None))
        {
            using var leave = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            using var content = new StringContent(review, System.Text.Encoding.UTF8, "application/json");
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.Client.PostAsync("/validate?timeout=10s", content, leave.Token));

            // the server sees the reset and lets the review go; nothing may be recorded for it (a bounded quiet window)
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var after = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("after"), uid: "after-1"));
        Assert.True(after.Allowed);
        // the audit log is written in order: once the later request's line is there, the earlier one would be too
        Assert.True(await WebhookServer.EventuallyAsync(async () => File.Exists(server.AuditFile) &&
            (await File.ReadAllTextAsync(server.AuditFile)).Contains("after-1", StringComparison.Ordinal), TimeSpan.FromSeconds(5)));
        Assert.DoesNotContain("gone-1", await File.ReadAllTextAsync(server.AuditFile), StringComparison.Ordinal);
        Assert.Equal(0, gate.InFlightBytes);
    }

    /// <summary>What needs no check is answered as always even when the review waited past its deadline: an exempt
    /// namespace, a DELETE the check would only warn about (EGW114 is a warning by default), a kind the mutation does not
    /// default, and a mutation (never refused).</summary>
    [Theory]
    [InlineData("/validate", "VirtualService", "CREATE", "exempt", true, null)]
    [InlineData("/validate", "VirtualService", "DELETE", "default", true, "egress check skipped")]
    [InlineData("/mutate", "VirtualService", "CREATE", "default", true, null)]
    [InlineData("/mutate", "ServiceEntry", "CREATE", "default", true, "egress defaults skipped")]
    [InlineData("/validate", "VirtualService", "CREATE", "default", false, null)]
    public async Task LargeReviewWaited_NeedsNoCheck_AnsweredAsAlways(string path, string kind, string operation, string ns, bool allowed, string? warning)
    {
        await using var server = await WebhookServer.StartAsync(new Dictionary<string, string>
        {
            ["Webhook:FailureMode"] = "Deny",
            ["Webhook:ExemptNamespaces:0"] = "exempt",
        });
        var gate = server.Services.GetRequiredService<LargeReviewGate>();
        var vs = Reviews.VirtualService("large", ("note", new string('x', 300 * 1024)));
        vs["metadata"]!["namespace"] = ns;
        if (kind == "ServiceEntry")
        {
            vs["kind"] = kind;
            vs["spec"] = new JsonObject
            {
                ["hosts"] = new JsonArray("api.example.com"),
                ["ports"] = new JsonArray(new JsonObject { ["number"] = 443, ["name"] = "tls", ["protocol"] = "TLS" }),
                ["resolution"] = "DNS",
            };
        }

        var review = operation == "DELETE" ? Reviews.Create("DELETE", null, vs, uid: "w-1") : Reviews.Create(operation, vs, uid: "w-1");

        AdmissionResult result;
        using (await gate.EnterAsync(64 * MiB, CancellationToken.None))
        {
            result = await server.PostAsync(review, $"{path}?timeout=2s");
        }

        AdmissionCases.AssertWellFormed(result, "w-1", Reviews.V1);
        Assert.Equal(allowed, result.Allowed);
        if (warning is not null)
        {
            Assert.Contains(result.Warnings, w => w.Contains(warning, StringComparison.Ordinal) && w.Contains("waited its turn", StringComparison.Ordinal));
        }
        else if (allowed)
        {
            Assert.Empty(result.Warnings);
        }

        Assert.Equal(0, gate.InFlightBytes);
    }
}
