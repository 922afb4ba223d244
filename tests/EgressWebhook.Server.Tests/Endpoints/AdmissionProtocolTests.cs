using System.Net;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Admission;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Snapshot;
using EgressWebhook.Server.Snapshots;
using EgressWebhook.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EgressWebhook.Server.Tests.Endpoints;

/// <summary>The admission protocol end to end over HTTPS, with <see cref="AnnotationRule"/> added to the catalogue.</summary>
public sealed class AdmissionProtocolTests
{
    [Fact]
    public async Task Validate_ErrorFinding_Denies403WithRuleObjectAndHeadline()
    {
        await using var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine);
        var uid = Guid.NewGuid().ToString();

        var result = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("broken", (AnnotationRule.Deny, "EGW105")), uid: uid));

        AdmissionCases.AssertWellFormed(result, uid, Reviews.V1);
        Assert.False(result.Allowed);
        Assert.Equal(403, result.StatusCode);
        Assert.Equal("Forbidden", result.Response.GetProperty("status").GetProperty("reason").GetString());
        Assert.Contains("EGW105 VirtualService default/broken (metadata.annotations): denied on purpose", result.StatusMessage!, StringComparison.Ordinal);
        Assert.Equal(["EGW105"], result.Rules);
        Assert.Equal("denied", result.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
    }

    [Fact]
    public async Task Validate_V1Beta1Review_AnsweredAsV1Beta1()
    {
        await using var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine);

        var result = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("broken", (AnnotationRule.Deny, "EGW104")), apiVersion: Reviews.V1Beta1, uid: "u-beta"));

        AdmissionCases.AssertWellFormed(result, "u-beta", Reviews.V1Beta1);
        Assert.False(result.Allowed);
    }

    [Fact]
    public async Task Validate_ManyWarnings_ClampedToKubernetesLimitsWithCountLine()
    {
        await using var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine);

        var result = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("noisy", (AnnotationRule.Warn, "160")), uid: "w"));

        AdmissionCases.AssertWellFormed(result, "w", Reviews.V1);
        Assert.True(result.Allowed);
        var warnings = result.Warnings;
        Assert.InRange(warnings.Count, 10, 159);
        Assert.All(warnings, w => Assert.True(w.Length <= 120));
        Assert.True(warnings.Sum(w => w.Length) <= 4096);
        Assert.Equal($"… and {160 - (warnings.Count - 1)} more egress warnings not shown", warnings[^1]);
        Assert.StartsWith("EGW202 VirtualService default/noisy: warning number 0000", warnings[0], StringComparison.Ordinal);
        Assert.Equal("warned", result.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
        Assert.Equal(AnnotationRule.WarningIds, result.Rules);
    }

    [Fact]
    public async Task Validate_FieldOfWrongType_DeniedNamingTheField()
    {
        await using var server = await WebhookServer.StartAsync();
        var se = JsonNode.Parse("""
            {"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"bad","namespace":"default"},
             "spec":{"hosts":["a.example.com"],"ports":[{"number":{"nested":true},"name":"tls","protocol":"TLS"}]}}
            """);

        var result = await server.PostAsync(Reviews.Create("CREATE", se, uid: "bad"));

        AdmissionCases.AssertWellFormed(result, "bad", Reviews.V1);
        Assert.False(result.Allowed);
        Assert.Equal(422, result.StatusCode);
        Assert.Contains("object.spec.ports[0].number", result.StatusMessage!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_DeleteWithUndecodableOldObject_DeniedNamingOldObjectField()
    {
        await using var server = await WebhookServer.StartAsync();
        var se = JsonNode.Parse("""
            {"apiVersion":"networking.istio.io/v1","kind":"ServiceEntry","metadata":{"name":"bad","namespace":"default"},"spec":{"hosts":{"x":1}}}
            """);

        var result = await server.PostAsync(Reviews.Create("DELETE", null, se, uid: "del"));

        Assert.False(result.Allowed);
        Assert.Contains("oldObject.spec.hosts", result.StatusMessage!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_DeleteOfAnObjectThatWouldBeDeniedOnCreate_DecidedOnOldObjectOnly()
    {
        await using var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine);
        var vs = Reviews.VirtualService("going", (AnnotationRule.Deny, "EGW105"));

        var create = await server.PostAsync(Reviews.Create("CREATE", vs));
        var delete = await server.PostAsync(Reviews.Create("DELETE", null, vs));

        Assert.False(create.Allowed);
        Assert.True(delete.Allowed);
        Assert.Empty(delete.Rules);
    }

    [Fact]
    public async Task Validate_KindNotHandled_AllowedUnchanged()
    {
        await using var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine);
        var deployment = JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"default","annotations":{"test.egress/deny":"EGW101"}},"spec":{"replicas":"many"}}
            """);

        var result = await server.PostAsync(Reviews.Create("CREATE", deployment, uid: "dep"));

        AdmissionCases.AssertWellFormed(result, "dep", Reviews.V1);
        Assert.True(result.Allowed);
        Assert.False(result.Response.TryGetProperty("patch", out _));
        Assert.Equal("skipped", result.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
    }

    [Fact]
    public async Task Validate_ExemptNamespace_AllowedWhileOthersAreChecked()
    {
        await using var server = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:ExemptNamespaces:0"] = "istio-system" }, AnnotationRule.Engine);
        var vs = Reviews.VirtualService("x", (AnnotationRule.Deny, "EGW105"));
        var exempt = vs.DeepClone();
        exempt["metadata"]!["namespace"] = "istio-system";

        Assert.True((await server.PostAsync(Reviews.Create("CREATE", exempt))).Allowed);
        Assert.False((await server.PostAsync(Reviews.Create("CREATE", vs))).Allowed);
    }

    [Fact]
    public async Task Validate_DryRun_DecidedTheSameWay()
    {
        await using var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine);
        var vs = Reviews.VirtualService("x", (AnnotationRule.Deny, "EGW105"));

        var dry = await server.PostAsync(Reviews.Create("CREATE", vs, dryRun: true));

        Assert.False(dry.Allowed);
        Assert.Equal(["EGW105"], dry.Rules);
    }

    [Theory]
    [InlineData("Deny", false)]
    [InlineData("Allow", true)]
    public async Task Validate_RuleThrows_FailureModeDecides(string mode, bool allowed)
    {
        await using var server = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:FailureMode"] = mode }, AnnotationRule.Engine);

        var result = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("x", (AnnotationRule.Throw, "yes")), uid: "t"));

        AdmissionCases.AssertWellFormed(result, "t", Reviews.V1);
        Assert.Equal(allowed, result.Allowed);
        Assert.Equal("failed", result.Response.GetProperty("auditAnnotations").GetProperty("decision").GetString());
        Assert.Contains("rule failed on purpose", allowed ? result.Warnings[0] : result.StatusMessage!, StringComparison.Ordinal);

        // the next request is unaffected
        Assert.True((await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("y")))).Allowed);
    }

    [Fact]
    public async Task Validate_RuleOverrides_WarnAndOffChangeTheDecision()
    {
        var vs = Reviews.VirtualService("x", (AnnotationRule.Deny, "EGW105"));
        await using (var warn = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:Rules:EGW105"] = "Warn" }, AnnotationRule.Engine))
        {
            var result = await warn.PostAsync(Reviews.Create("CREATE", vs));
            Assert.True(result.Allowed);
            Assert.StartsWith("EGW105 VirtualService default/x:", Assert.Single(result.Warnings), StringComparison.Ordinal);
        }

        await using (var off = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:Rules:egw105"] = "off" }, AnnotationRule.Engine))
        {
            var result = await off.PostAsync(Reviews.Create("CREATE", vs));
            Assert.True(result.Allowed);
            Assert.Empty(result.Warnings);
        }

        await using var warnOnly = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:WarnOnly"] = "true" }, AnnotationRule.Engine);
        Assert.True((await warnOnly.PostAsync(Reviews.Create("CREATE", vs))).Allowed);
    }

    [Fact]
    public async Task Mutate_AnyObject_AllowedWithoutPatch()
    {
        await using var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine);

        var result = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("x", (AnnotationRule.Deny, "EGW105")), uid: "m"), "/mutate");

        Assert.Equal(HttpStatusCode.OK, result.Status);
        Assert.Equal("m", result.Uid);
        Assert.True(result.Allowed);
        Assert.False(result.Response.TryGetProperty("patch", out _));
    }

    [Fact]
    public async Task Floor_OnlyWhenEnabled_ParsesAndAllows()
    {
        var review = Reviews.Create("CREATE", Reviews.VirtualService("x", (AnnotationRule.Deny, "EGW105")), uid: "f");
        await using (var off = await WebhookServer.StartAsync(engine: AnnotationRule.Engine))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await off.PostAsync(review, "/floor")).Status);
        }

        await using var on = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:EnableFloorEndpoint"] = "true" }, AnnotationRule.Engine);
        var result = await on.PostAsync(review, "/floor");
        Assert.True(result.Allowed);
        Assert.Equal("f", result.Uid);
        Assert.Equal(HttpStatusCode.BadRequest, (await on.PostAsync("{", "/floor")).Status);
    }

    [Fact]
    public async Task Validate_BodyStallsPastTimeoutParameter_AnsweredWithinIt()
    {
        await using var server = await WebhookServer.StartAsync();
        await server.PostAsync("{", "/validate?timeout=1s"); // warm the path up: the 1 s is the server's, not the JIT's
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
#pragma warning disable CA5359 // throwaway self-signed test certificate
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
#pragma warning restore CA5359
        await tls.AuthenticateAsClientAsync("localhost");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        // headers promise 1000 bytes; only the start of the review arrives
        await tls.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            "POST /validate?timeout=1s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"apiVersion\":"));
        await tls.FlushAsync();
        var buffer = new byte[256];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var read = await tls.ReadAsync(buffer, cts.Token);

        Assert.StartsWith("HTTP/1.1 408", System.Text.Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Validate_DenialOnMissingObject_ConfirmedByFreshReadAndRedecided()
    {
        var fresh = new FakeFreshRead();
        await using var server = await WebhookServer.StartAsync(engine: AnnotationRule.Engine, services: s => s.AddSingleton<IFreshReadSource>(fresh));
        var vs = Reviews.VirtualService("x", (AnnotationRule.Requires, "ServiceEntry/default/just-created"));

        var result = await server.PostAsync(Reviews.Create("CREATE", vs));

        Assert.True(result.Allowed);
        Assert.Equal(1, fresh.Calls);
        Assert.Equal([ResourceKind.ServiceEntry], fresh.LastKinds); // an external host: Services cannot register it

        // a denial on a rule that does not rest on a missing object is not re-read
        Assert.False((await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("y", (AnnotationRule.Deny, "EGW105"))))).Allowed);
        Assert.Equal(1, fresh.Calls);
    }

    [Fact]
    public async Task Health_OnMainAndHealthPort_MetricsOnTheHealthPortOnly()
    {
        var port = FreePort();
        await using var server = await WebhookServer.StartAsync(new Dictionary<string, string> { ["Webhook:HealthPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("x")));
        using var plain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        foreach (var client in new[] { server.Client, plain })
        {
            Assert.Equal("ok\n", await client.GetStringAsync("/healthz"));
            Assert.Equal("ready\n", await client.GetStringAsync("/readyz"));
        }

        var metrics = await plain.GetStringAsync("/metrics");
        Assert.Contains("egress_webhook_admission_requests_total{endpoint=\"validate\",kind=\"VirtualService\",operation=\"CREATE\",decision=\"allowed\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("egress_webhook_snapshot_objects 8", metrics, StringComparison.Ordinal);
        Assert.Contains("egress_webhook_snapshot_age_seconds", metrics, StringComparison.Ordinal);
        Assert.Contains("egress_webhook_admission_duration_seconds_bucket", metrics, StringComparison.Ordinal);

        // the NetworkPolicy lets only the monitoring namespace reach the health port: metrics are not on the admission port
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync("/metrics")).StatusCode);

        // admission is not served on the plain-HTTP port
        using var content = new StringContent(Reviews.Create("CREATE", Reviews.VirtualService("x")));
        Assert.Equal(HttpStatusCode.NotFound, (await plain.PostAsync("/validate", content)).StatusCode);
    }

    [Theory]
    [InlineData(null, true)] // default: every IPv4 interface, as a pod needs
    [InlineData("127.0.0.1", false)]
    public async Task HealthAddress_DecidesWhereTheHealthPortListens(string? address, bool reachableOnOtherAddress)
    {
        var port = FreePort();
        var settings = new Dictionary<string, string> { ["Webhook:HealthPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (address is not null)
        {
            settings["Webhook:HealthAddress"] = address;
        }

        await using var server = await WebhookServer.StartAsync(settings);
        using var loopback = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        // 127.0.0.2 is a loopback address too, but not the one a 127.0.0.1 listener is bound to
        using var other = new HttpClient { BaseAddress = new Uri($"http://127.0.0.2:{port}"), Timeout = TimeSpan.FromSeconds(5) };

        Assert.Equal("ok\n", await loopback.GetStringAsync("/healthz"));
        if (reachableOnOtherAddress)
        {
            Assert.Equal("ok\n", await other.GetStringAsync("/healthz"));
        }
        else
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => other.GetStringAsync("/healthz"));
        }
    }

    [Fact]
    public async Task Readyz_NoGoodSnapshotYet_NotReadyAndFailureModeDenies()
    {
        await using var server = await WebhookServer.StartAsync(stateFiles: new Dictionary<string, string> { ["broken.yaml"] = "kind: [unclosed" });

        using var ready = await server.Client.GetAsync("/readyz");
        var result = await server.PostAsync(Reviews.Create("CREATE", Reviews.VirtualService("x")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.False(result.Allowed);
        Assert.Contains("no snapshot", result.StatusMessage!, StringComparison.Ordinal);
        Assert.Contains("\negress_webhook_snapshot_load_failing 1\n", await server.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Webhook:FailureMode", "Maybe", "Webhook:FailureMode 'Maybe' must be Deny or Allow")]
    [InlineData("Webhook:Rules:EGW999", "Deny", "Webhook:Rules:EGW999 is not a rule id")]
    [InlineData("Webhook:Rules:EGW405", "Off", "Webhook:Rules:EGW405 is a mutation reason, not a rule with an enforcement")]
    [InlineData("Webhook:Rules:EGW410", "Warn", "Webhook:Rules:EGW410 is a mutation reason, not a rule with an enforcement")]
    [InlineData("Webhook:Rules:EGW105", "Sometimes", "Webhook:Rules:EGW105 'Sometimes' must be Deny, Strict, Warn or Off")]
    [InlineData("Webhook:Enforcement", "Lenient", "Webhook:Enforcement 'Lenient' must be Tolerant or Strict")]
    [InlineData("Webhook:GracePeriod", "soon", "Webhook:GracePeriod 'soon' must be a duration between 0 and 1h")]
    [InlineData("Webhook:GracePeriod", "0", "Webhook:GracePeriod '0' must be a duration between 0 and 1h")]
    [InlineData("Webhook:OutboundPolicy", "OPEN", "Webhook:OutboundPolicy 'OPEN' must be ALLOW_ANY or REGISTRY_ONLY")]
    [InlineData("Webhook:StateDirectory", "/does/not/exist", "Webhook:StateDirectory '/does/not/exist' is not a directory")]
    [InlineData("Webhook:Source", "Etcd", "Webhook:Source 'Etcd' must be State or Cluster")]
    [InlineData("Webhook:Tls:CertificateFile", "/nope/tls.crt", "Webhook:Tls:CertificateFile and Webhook:Tls:KeyFile must be set together")]
    [InlineData("Webhook:HealthPort", "70000", "Webhook:HealthPort 70000 must be a port number")]
    [InlineData("Webhook:HealthPort", "eighty", "Webhook:HealthPort 'eighty' must be a port number")]
    [InlineData("Webhook:HealthAddress", "all", "Webhook:HealthAddress 'all' must be an IP address")]
    [InlineData("Webhook:Mutation:DefaultGateway", "istio-egressgateway", "Webhook:Mutation:DefaultGateway 'istio-egressgateway' must be <namespace>/<gateway Service>")]
    [InlineData("Webhook:Mutation:DefaultGateway", "istio-system.istio-egressgateway", "Webhook:Mutation:DefaultGateway 'istio-system.istio-egressgateway' must be")]
    [InlineData("Webhook:Tls:RequireClientCertificate", "true", "Webhook:Tls:RequireClientCertificate=true requires Webhook:Tls:ClientCaFile")]
    [InlineData("Webhook:ShutdownTimeoutSeconds", "0", "Webhook:ShutdownTimeoutSeconds 0 must be above Webhook:ShutdownDelaySeconds (0)")]
    [InlineData("Webhook:ShutdownDelaySeconds", "-1", "Webhook:ShutdownDelaySeconds -1 must be between 0 and 120")]
    [InlineData("Webhook:Limits:MaxConnections", "0", "Webhook:Limits:MaxConnections 0 must be between 1 and 1000000")]
    [InlineData("Webhook:Limits:RequestHeadersTimeoutSeconds", "0", "Webhook:Limits:RequestHeadersTimeoutSeconds 0 must be between 1 and 120")]
    public async Task Start_BadSetting_FailsWithClearMessage(string key, string value, string message)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => WebhookServer.StartAsync(new Dictionary<string, string> { [key] = value }));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1500)]
    [InlineData("abc", null)]
    [InlineData("10", null)]
    [InlineData("", null)]
    public void ParseGoDuration_KubernetesTimeouts_Parsed(string text, int? milliseconds)
    {
        Assert.Equal(milliseconds is null ? null : TimeSpan.FromMilliseconds(milliseconds.Value), global::EgressWebhook.Server.Endpoints.AdmissionBody.ParseGoDuration(text));
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class FakeFreshRead : IFreshReadSource
    {
        public int Calls { get; private set; }

        public IReadOnlyList<ResourceKind> LastKinds { get; private set; } = [];

        public Task<EgressObject?> GetAsync(ResourceKind kind, string ns, string name, CancellationToken cancellationToken) => Task.FromResult<EgressObject?>(null);

        public Task<EgressSnapshot?> RefreshAsync(EgressSnapshot current, IReadOnlyDictionary<ResourceKind, FreshReadMode> plan, CancellationToken cancellationToken)
        {
            Calls++;
            LastKinds = [.. plan.Keys];
            var created = AdmissionCases.Objects("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: just-created, namespace: default}
                spec: {hosts: [example.org], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
                """).Single().Object;
            return Task.FromResult<EgressSnapshot?>(EgressSnapshot.Create(current.Objects.Append(created)));
        }
    }
}
