using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EgressWebhook.Core.Model;
using EgressWebhook.Core.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EgressWebhook.Server.Tests.Fakes;

/// <summary>An in-process Kubernetes API server for the resources the cluster cache reads: list (with
/// <c>limit</c>/<c>continue</c>), watch from a resourceVersion (history replay, bookmarks, <c>timeoutSeconds</c>,
/// 410 Gone after compaction), get, and discovery of networking.istio.io, the Gateway API and egress.webhook.dev (EgressPolicy), over plain HTTP on 127.0.0.1. Tests change
/// its state and inject failures: expired watches, dropped connections, streams that go silent without closing.</summary>
/// <remarks>By default it behaves as kube-apiserver v1.28 on etcd 3.4 at their default settings was measured to:
/// a watch gets a bookmark only when etcd reports progress, which for a kind with no changes is every
/// <see cref="BookmarkInterval"/> (30 minutes here; etcd's default progress-notify interval is 10 minutes), so an
/// open, silent watch is the normal state of a quiet kind; a write reaches the watches <see cref="WatchEventDelay"/>
/// after it is acknowledged (measured 40–80 ms), while lists and gets are consistent at once; the server ends each
/// watch at its <c>timeoutSeconds</c>. Its timers (bookmarks, event delay, watch timeouts) run on the
/// <see cref="TimeProvider"/> it is started with, so tests can let 30 minutes pass on a fake clock. For the generator it also takes
/// server-side applies and deletes of Istio objects (recorded per plural, with injectable failures) and serves
/// coordination.k8s.io/v1 Leases (get, create, replace with resourceVersion conflicts).</remarks>
internal sealed class FakeKubernetesApiServer : IAsyncDisposable
{
    private const string IstioGroup = "networking.istio.io";
    private const string GatewayApiGroup = "gateway.networking.k8s.io";
    private const string PolicyReportGroup = "wgpolicyk8s.io";
    private const string PolicyReportVersion = "v1alpha2";
    private const string SecurityGroup = "security.istio.io";
    private const string PolicyGroup = EgressPolicy.Group;

    private static readonly Dictionary<string, Kind> Kinds = new Kind[]
    {
        new("ServiceEntry", "serviceentries", true, true),
        new("Gateway", "gateways", true, true),
        new("VirtualService", "virtualservices", true, true),
        new("DestinationRule", "destinationrules", true, true),
        new("Sidecar", "sidecars", true, true),
        new("Service", "services", false, true),
        new("Namespace", "namespaces", false, false),
        new("ConfigMap", "configmaps", false, true),
        // Gateway API routes, at the versions a current cluster serves them
        new("HTTPRoute", "httproutes", false, true, GatewayApiGroup, "v1"),
        new("GRPCRoute", "grpcroutes", false, true, GatewayApiGroup, "v1"),
        new("TLSRoute", "tlsroutes", false, true, GatewayApiGroup, "v1alpha2"),
        new("TCPRoute", "tcproutes", false, true, GatewayApiGroup, "v1alpha2"),
        // the wg-policy reports (CRDs of the optional deploy/components/policy-reports), served when ServePolicyReports
        new("PolicyReport", "policyreports", false, true, PolicyReportGroup, PolicyReportVersion),
        new("ClusterPolicyReport", "clusterpolicyreports", false, false, PolicyReportGroup, PolicyReportVersion),
        // ambient waypoints and Gateway API egress (issue 17): the Gateway API Gateway shares its plural with Istio's
        // Gateway, so its state is kept under gateways.gateway.networking.k8s.io
        new("Gateway", "gateways", false, true, GatewayApiGroup, "v1"),
        new("ReferenceGrant", "referencegrants", false, true, GatewayApiGroup, "v1beta1"),
        new("AuthorizationPolicy", "authorizationpolicies", false, true, SecurityGroup, "v1"),
        // the project's own CRD (deploy/crds/egresspolicy.yaml), cluster-scoped
        new("EgressPolicy", "egresspolicies", false, false, PolicyGroup, EgressPolicy.Version),
    }.ToDictionary(k => k.Key, StringComparer.Ordinal);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ResourceState> _resources = Kinds.Keys.ToDictionary(p => p, _ => new ResourceState(), StringComparer.Ordinal);
    private readonly Dictionary<string, Page> _continuations = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private Task? _bookmarks;
    private readonly Dictionary<string, JsonObject> _leases = new(StringComparer.Ordinal);
    private readonly List<WriteRecord> _writes = [];
    private readonly Queue<HttpStatusCode> _writeFailures = new();
    private long _resourceVersion = 1000;
    private readonly List<JsonObject> _events = [];

    private readonly TimeProvider _time;

    private FakeKubernetesApiServer(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>The clock of the server's timers (bookmarks, event delay, watch timeouts).</summary>
    public TimeProvider Time => _time;

    public string Url { get; private set; } = "";

    /// <summary>Versions of networking.istio.io the discovery endpoint lists and the server serves; empty = not installed.</summary>
    public IReadOnlyList<string> IstioVersions { get; set; } = ["v1", "v1beta1", "v1alpha3"];

    /// <summary>Whether the Gateway API group is served (its CRDs installed); read at every request (<see cref="InstallCrds"/>
    /// and <see cref="DeleteCrds"/> change it at runtime as a real API server would).</summary>
    public bool ServeGatewayApi { get; set; } = true;

    /// <summary>Whether the wgpolicyk8s.io/v1alpha2 CRDs (PolicyReport, ClusterPolicyReport) are installed. When not,
    /// every request under <c>/apis/wgpolicyk8s.io</c> answers 404 as kube-apiserver does for an unknown group.</summary>
    public bool ServePolicyReports { get; set; }

    /// <summary>Whether security.istio.io (AuthorizationPolicy) is served; read at discovery.</summary>
    public bool ServeSecurityApi { get; set; } = true;
    /// <summary>Whether the EgressPolicy CRD is installed (egress.webhook.dev served); read at every request.</summary>
    public bool ServeEgressPolicies { get; set; } = true;

    /// <summary>While set, discovery of the optional groups (<c>GET /apis/&lt;group&gt;</c> and
    /// <c>/apis/&lt;group&gt;/&lt;version&gt;</c>, Istio's group excepted) answers 500: an aggregated API or etcd failing.</summary>
    public bool FailOptionalDiscovery { get; set; }

    /// <summary>Discovery requests answered 500 because of <see cref="FailOptionalDiscovery"/>.</summary>
    public int FailedDiscoveries => Volatile.Read(ref _failedDiscoveries);

    private int _failedDiscoveries;

    /// <summary>As <c>kubectl apply -f</c> of the CRDs of <paramref name="group"/> (Gateway API, security.istio.io,
    /// wgpolicyk8s.io or egress.webhook.dev) on a running cluster: from now on discovery lists the group and its
    /// resources are served.</summary>
    public void InstallCrds(string group) => SetServed(group, true);

    /// <summary>As <c>kubectl delete crd</c> of every CRD of <paramref name="group"/>: the API server deletes the custom
    /// resources (a DELETED event each to open watches), ends the open watches of their kinds, and from then on
    /// leaves the group out of discovery and answers 404 to its lists, watches and gets.</summary>
    public void DeleteCrds(string group)
    {
        lock (_lock)
        {
            foreach (var kind in Kinds.Values.Where(k => k.Group == group))
            {
                var state = _resources[kind.Key];
                foreach (var (key, item) in state.Items.ToArray())
                {
                    state.Items.Remove(key);
                    var rv = ++_resourceVersion;
                    var obj = (JsonObject)JsonNode.Parse(item.Full)!;
                    obj["metadata"]!["resourceVersion"] = Rv(rv);
                    Record(state, rv, item.Namespace, $"{{\"type\":\"DELETED\",\"object\":{obj.ToJsonString()}}}", recordEvent: true);
                }

                foreach (var watcher in state.Watchers)
                {
                    watcher.Lines.Writer.TryComplete();
                }
            }

            SetServed(group, false);
        }
    }

    private void SetServed(string group, bool served)
    {
        switch (group)
        {
            case GatewayApiGroup:
                ServeGatewayApi = served;
                break;
            case SecurityGroup:
                ServeSecurityApi = served;
                break;
            case PolicyReportGroup:
                ServePolicyReports = served;
                break;
            case PolicyGroup:
                ServeEgressPolicies = served;
                break;
            default:
                throw new ArgumentException($"{group} is not an optional group of the fake API server", nameof(group));
        }
    }

    /// <summary>How often open watches that asked for bookmarks get one (etcd's progress notification);
    /// <see cref="Timeout.InfiniteTimeSpan"/> = never. The default, 30 minutes, is what a kind with no changes sees
    /// from kube-apiserver on etcd defaults (10 minutes) at the least; tests that want the old chatty server set 100 ms.</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Time between a write (acknowledged at once, visible to lists and gets) and its watch event; 0 = at once.
    /// A real API server was measured at 40–80 ms.</summary>
    public TimeSpan WatchEventDelay { get; set; } = TimeSpan.Zero;

    /// <summary>The Authorization header of the last request (null when it had none).</summary>
    public string? LastAuthorization { get; private set; }

    /// <summary>Delay before answering a list (a slow API server).</summary>
    public TimeSpan ListDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Watches opened while this is set accept the request and then send nothing and never close (as over a
    /// TCP connection that died without a reset): not even their <c>timeoutSeconds</c> ends them.</summary>
    public bool StallNewWatches { get; set; }

    private readonly HashSet<string> _refusedReads = new(StringComparer.Ordinal);

    private readonly Dictionary<string, string[]> _servedVersions = new(StringComparer.Ordinal);

    /// <summary>As a CRD of an optional kind changed to serve <paramref name="versions"/> (e.g. v1 added next to
    /// v1alpha2): discovery lists each of them and the kind's objects are listed, watched and read at every one (one
    /// store, as the API server converts between served versions). The default is the one version in the kind table.</summary>
    public void ServeVersions(string plural, params string[] versions)
    {
        ArgumentOutOfRangeException.ThrowIfZero(versions.Length);
        lock (_lock)
        {
            _servedVersions[plural] = versions;
        }
    }

    /// <summary>The versions <paramref name="kind"/> is served at.</summary>
    private string[] VersionsOf(Kind kind)
    {
        lock (_lock)
        {
            return _servedVersions.TryGetValue(kind.Key, out var versions) ? versions : [kind.Version!];
        }
    }

    private readonly HashSet<string> _closedAtOnce = new(StringComparer.Ordinal);

    /// <summary>New watches of <paramref name="plural"/> are accepted (200, headers sent) and end at once without an event
    /// while <paramref name="closing"/>: a server or proxy in front of it that keeps dropping watches.</summary>
    public void CloseWatchesAtOnce(string plural, bool closing = true)
    {
        lock (_lock)
        {
            _ = closing ? _closedAtOnce.Add(plural) : _closedAtOnce.Remove(plural);
        }
    }

    /// <summary>Lists and watches of <paramref name="plural"/> answer 500 (an etcd or conversion failure for one kind)
    /// while <paramref name="refused"/>: a client's cache of that kind cannot recover until it is reset. With
    /// <paramref name="version"/>, only the reads at that version of an optional kind (a conversion webhook failing).</summary>
    public void RefuseReads(string plural, bool refused = true, string? version = null)
    {
        var key = version is null ? plural : $"{plural}@{version}";
        lock (_lock)
        {
            _ = refused ? _refusedReads.Add(key) : _refusedReads.Remove(key);
        }
    }

    /// <summary>The admission chain of writes, as the API server runs the webhooks registered for them: when set, every
    /// <see cref="KubectlApplyAsync"/>, server-side apply and DELETE goes through it (mutating, then schema, then
    /// validating) and a refused write changes nothing. Null (the default): writes are stored unchecked.</summary>
    public IAdmissionChain? Admission { get; set; }

    /// <summary>The core/v1 Events created (POST .../events), in order.</summary>
    public IReadOnlyList<JsonObject> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events.Select(e => (JsonObject)e.DeepClone())];
            }
        }
    }

    /// <summary>As <c>kubectl apply -f</c>: every document in order, each a create or update through <see cref="Admission"/>
    /// (when set); a refused document is reported and the next one is sent. kubectl waits for nothing between them;
    /// <paramref name="between"/> (after each stored write) lets a test wait, e.g. for the webhook's cache to hold it.</summary>
    public async Task<IReadOnlyList<AdmittedWrite>> KubectlApplyAsync(string yaml, Func<Task>? between = null)
    {
        var results = new List<AdmittedWrite>();
        foreach (var doc in YamlJson.ParseDocuments(yaml))
        {
            var obj = (JsonObject)JsonNode.Parse(doc.Json.GetRawText())!;
            var kind = KindOf(obj);
            var meta = (JsonObject)obj["metadata"]!;
            var ns = kind.Namespaced ? meta["namespace"]?.GetValue<string>() ?? "default" : "";
            if (kind.Namespaced)
            {
                meta["namespace"] = ns;
            }

            var stored = Get(kind.Key, ns, meta["name"]!.GetValue<string>());
            if (Admission is not { } chain)
            {
                Upsert(obj, recordEvent: true);
                results.Add(new AdmittedWrite(stored is null ? "CREATE" : "UPDATE", kind.Name, ns, meta["name"]!.GetValue<string>(), true, 200, null, []));
                continue;
            }

            // the API server gives the object its uid before the webhooks see it (an update keeps the stored one)
            meta["uid"] = stored?["metadata"]?["uid"]?.DeepClone() ?? Guid.NewGuid().ToString();
            var verdict = await chain.AdmitAsync(stored is null ? "CREATE" : "UPDATE", obj, stored);
            if (verdict.Allowed)
            {
                Upsert(verdict.Object!, recordEvent: true, keepUid: true);
                if (between is not null)
                {
                    await between();
                }
            }

            results.Add(verdict.Write);
        }

        return results;
    }

    /// <summary>Lease requests get their connection aborted (a transport error, as when the API server is unreachable).</summary>
    public bool AbortLeaseRequests { get; set; }

    /// <summary>Lease requests are refused with 403 (the ServiceAccount lacks the RBAC).</summary>
    public bool ForbidLeases { get; set; }

    /// <summary>The current resourceVersion (the last write).</summary>
    public string ResourceVersion
    {
        get
        {
            lock (_lock)
            {
                return Rv(_resourceVersion);
            }
        }
    }

    public static async Task<FakeKubernetesApiServer> StartAsync(TimeProvider? time = null)
    {
        var server = new FakeKubernetesApiServer(time ?? TimeProvider.System);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server._app = app;
        server.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server._bookmarks = server.BookmarkLoopAsync();
        return server;
    }

    /// <summary>Creates or updates every object of the YAML (ADDED or MODIFIED events); returns the last resourceVersion.</summary>
    public string Apply(string yaml)
    {
        var rv = "";
        foreach (var doc in YamlJson.ParseDocuments(yaml))
        {
            rv = Upsert((JsonObject)JsonNode.Parse(doc.Json.GetRawText())!, recordEvent: true);
        }

        return rv;
    }

    /// <summary>Stores objects as if they existed before any watch (no events): the state of a running cluster.</summary>
    public void Preload(IEnumerable<JsonObject> objects)
    {
        foreach (var obj in objects)
        {
            Upsert(obj, recordEvent: false);
        }
    }

    /// <summary>Deletes an object (DELETED event); false when it did not exist.</summary>
    public bool Delete(string plural, string ns, string name)
    {
        lock (_lock)
        {
            var state = _resources[plural];
            var key = Key(Kinds[plural], ns, name);
            if (!state.Items.Remove(key, out var item))
            {
                return false;
            }

            var rv = ++_resourceVersion;
            var obj = (JsonObject)JsonNode.Parse(item.Full)!;
            obj["metadata"]!["resourceVersion"] = Rv(rv);
            Record(state, rv, item.Namespace, $"{{\"type\":\"DELETED\",\"object\":{obj.ToJsonString()}}}", recordEvent: true);
            return true;
        }
    }

    /// <summary>The writes (server-side applies and deletes) received for <paramref name="plural"/>, in order,
    /// including refused ones.</summary>
    public IReadOnlyList<WriteRecord> Writes(string plural)
    {
        lock (_lock)
        {
            return [.. _writes.Where(w => w.Plural == plural)];
        }
    }

    /// <summary>Every write received (any plural), in order.</summary>
    public IReadOnlyList<WriteRecord> AllWrites()
    {
        lock (_lock)
        {
            return [.. _writes];
        }
    }

    /// <summary>The next <paramref name="count"/> writes (apply or delete of an Istio object) are refused with
    /// <paramref name="code"/> and change nothing.</summary>
    public void FailNextWrites(int count, HttpStatusCode code)
    {
        lock (_lock)
        {
            for (var i = 0; i < count; i++)
            {
                _writeFailures.Enqueue(code);
            }
        }
    }

    /// <summary>A stored object as JSON (with apiVersion and kind), or null.</summary>
    public JsonObject? Get(string plural, string ns, string name)
    {
        lock (_lock)
        {
            return _resources[plural].Items.TryGetValue(Key(Kinds[plural], ns, name), out var item) ? (JsonObject)JsonNode.Parse(item.Full)! : null;
        }
    }

    /// <summary>Every stored object of <paramref name="plural"/> as JSON.</summary>
    public IReadOnlyList<JsonObject> All(string plural)
    {
        lock (_lock)
        {
            return [.. _resources[plural].Items.Values.Select(i => (JsonObject)JsonNode.Parse(i.Full)!)];
        }
    }

    /// <summary>Creates or replaces a Lease as another holder would have written it.</summary>
    public void PutLease(string ns, string name, string holder, DateTime renewTime, int leaseDurationSeconds)
    {
        var time = renewTime.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        var lease = new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["spec"] = new JsonObject
            {
                ["holderIdentity"] = holder,
                ["leaseDurationSeconds"] = leaseDurationSeconds,
                ["acquireTime"] = time,
                ["renewTime"] = time,
                ["leaseTransitions"] = 0,
            },
        };
        lock (_lock)
        {
            StoreLease(ns, name, lease, _leases.TryGetValue($"{ns}/{name}", out var old) ? old : null);
        }
    }

    /// <summary>The holderIdentity of a Lease, or null when there is none.</summary>
    public string? LeaseHolder(string ns, string name)
    {
        lock (_lock)
        {
            return _leases.TryGetValue($"{ns}/{name}", out var lease) ? lease["spec"]?["holderIdentity"]?.GetValue<string>() : null;
        }
    }

    /// <summary>Compacts the history (every resourceVersion a client holds is now too old) and ends the open watches
    /// of <paramref name="plural"/> with an ERROR event 410 Expired, as the API server does.</summary>
    public void ExpireWatches(string plural)
    {
        lock (_lock)
        {
            var state = _resources[plural];
            state.CompactedRv = ++_resourceVersion;
            state.History.Clear();
            foreach (var watcher in state.Watchers)
            {
                watcher.Lines.Writer.TryWrite(new Line(GoneLine(state.CompactedRv), DateTimeOffset.MinValue));
                watcher.Lines.Writer.TryComplete();
            }
        }
    }

    /// <summary>Aborts the connections of the open watches of <paramref name="plural"/>.</summary>
    public void DropWatches(string plural)
    {
        lock (_lock)
        {
            foreach (var watcher in _resources[plural].Watchers)
            {
                // nothing written after the drop may still reach the client through the dying connection
                watcher.Stalled = true;
                watcher.Context.Abort();
            }
        }
    }

    /// <summary>The open watches of <paramref name="plural"/> stay connected but send nothing more and do not close at
    /// their timeout: a connection gone silent without closing.</summary>
    public void StallWatches(string plural)
    {
        lock (_lock)
        {
            foreach (var watcher in _resources[plural].Watchers)
            {
                watcher.Stalled = true;
            }
        }
    }

    public int OpenWatches(string plural)
    {
        lock (_lock)
        {
            return _resources[plural].Watchers.Count;
        }
    }

    /// <summary>Gets by name served for <paramref name="plural"/> (found or not).</summary>
    public int GetCount(string plural)
    {
        lock (_lock)
        {
            return _resources[plural].Gets;
        }
    }

    /// <summary>Lists and watches of <paramref name="plural"/> answered 500 by <see cref="RefuseReads"/>.</summary>
    public int RefusedReads(string plural)
    {
        lock (_lock)
        {
            return _resources[plural].Refused;
        }
    }

    /// <summary>Watch events of <paramref name="plural"/> a stalled watch (see <see cref="StallWatches"/> and
    /// <see cref="StallNewWatches"/>) held back, counted once per watch: at the write, or in the replay of a watch
    /// opened stalled. A test waits for it to know the change reached the watch and was not delivered.</summary>
    public int WithheldEvents(string plural)
    {
        lock (_lock)
        {
            return _resources[plural].Withheld;
        }
    }

    /// <summary>Discovery requests for Istio's group (<c>GET /apis/networking.istio.io</c>), whatever it answered.</summary>
    public int IstioDiscoveries => Volatile.Read(ref _istioDiscoveries);

    private int _istioDiscoveries;

    /// <summary>Lease requests received (coordination.k8s.io), whether answered, refused or aborted.</summary>
    public int LeaseRequests => Volatile.Read(ref _leaseRequests);

    private int _leaseRequests;

    /// <summary>Full lists (first pages) served for <paramref name="plural"/>.</summary>
    public int ListCount(string plural)
    {
        lock (_lock)
        {
            return _resources[plural].Lists;
        }
    }

    /// <summary>The namespace of each full list (first page) served for <paramref name="plural"/>, in order; null for a
    /// list of all namespaces. A count (<c>limit=1</c>) is a list too.</summary>
    public IReadOnlyList<string?> ListScopes(string plural)
    {
        lock (_lock)
        {
            return [.. _resources[plural].ListScopes];
        }
    }

    /// <summary>The resourceVersion each watch of <paramref name="plural"/> (in <paramref name="group"/>, where two
    /// groups share the plural) asked to start from, in order.</summary>
    public IReadOnlyList<string> WatchStarts(string plural, string? group = null)
    {
        var key = group is not null && KeyOf(group, plural) is { } qualified ? qualified : plural;
        lock (_lock)
        {
            return [.. _resources[key].WatchStarts];
        }
    }

    /// <summary>What the cache must hold: every stored object that Core decodes, with its resourceVersion.</summary>
    public HashSet<(ObjectKey Key, string? ResourceVersion)> Expected()
    {
        lock (_lock)
        {
            var set = new HashSet<(ObjectKey, string?)>();
            foreach (var (plural, state) in _resources)
            {
                if (plural is "configmaps" or "policyreports" or "clusterpolicyreports")
                {
                    // the cache watches the mesh namespace only; reports are written, never read
                    continue;
                }

                if (Kinds[plural].Group is { } group && !Serves(group))
                {
                    // a group whose CRDs are not installed: the API server serves none of its objects
                    continue;
                }

                foreach (var item in state.Items.Values)
                {
                    AddDecoded(set, item);
                }
            }

            foreach (var item in _resources["configmaps"].Items.Values.Where(i => i.Namespace == "istio-system"))
            {
                AddDecoded(set, item);
            }

            return set;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        lock (_lock)
        {
            foreach (var watcher in _resources.Values.SelectMany(s => s.Watchers))
            {
                watcher.Lines.Writer.TryComplete();
            }
        }

        if (_bookmarks is not null)
        {
            await _bookmarks;
        }

        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private static void AddDecoded(HashSet<(ObjectKey, string?)> set, Item item)
    {
        using var doc = JsonDocument.Parse(item.Full);
        try
        {
            if (ObjectDecoder.Decode(doc.RootElement, "default") is { } obj)
            {
                set.Add((obj.Key, obj.Metadata.ResourceVersion));
            }
        }
        catch (DecodeException)
        {
            // the cache skips objects Core cannot decode; so does the expectation
        }
    }

    private string Upsert(JsonObject obj, bool recordEvent, string? fieldManager = null, bool keepUid = false)
    {
        var kind = KindOf(obj);
        var meta = obj["metadata"] as JsonObject ?? throw new ArgumentException("object without metadata");
        var name = meta["name"]?.GetValue<string>() ?? throw new ArgumentException("object without name");
        var ns = kind.Namespaced ? meta["namespace"]?.GetValue<string>() ?? "default" : "";
        if (kind.Namespaced)
        {
            meta["namespace"] = ns;
        }

        if (kind.Istio || kind.Group is not null)
        {
            obj["apiVersion"] = kind.ApiVersion;
        }

        lock (_lock)
        {
            var state = _resources[kind.Key];
            var key = Key(kind, ns, name);
            var existed = state.Items.TryGetValue(key, out var old);
            var oldMeta = existed ? JsonNode.Parse(old!.Full)!["metadata"] : null;
            meta["uid"] = oldMeta?["uid"]?.GetValue<string>() ?? (keepUid ? meta["uid"]?.GetValue<string>() : null) ?? Guid.NewGuid().ToString();
            meta["creationTimestamp"] = oldMeta?["creationTimestamp"]?.GetValue<string>() ??
                                        meta["creationTimestamp"]?.GetValue<string>() ??
                                        DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            if (fieldManager is not null)
            {
                meta["managedFields"] = new JsonArray(new JsonObject { ["manager"] = fieldManager, ["operation"] = "Apply", ["apiVersion"] = obj["apiVersion"]!.GetValue<string>() });
            }

            if (existed && fieldManager is not null && SameContent(old!.Full, obj))
            {
                // like the API server: an apply that changes nothing writes nothing (no new resourceVersion, no event)
                return JsonNode.Parse(old.Full)!["metadata"]!["resourceVersion"]!.GetValue<string>();
            }

            var rv = ++_resourceVersion;
            meta["resourceVersion"] = Rv(rv);
            var full = obj.ToJsonString();
            var bare = kind.Istio || kind.Group is not null ? full : WithoutTypeMeta(obj);
            state.Items[key] = new Item(ns, full, bare);
            Record(state, rv, ns, $"{{\"type\":\"{(existed ? "MODIFIED" : "ADDED")}\",\"object\":{full}}}", recordEvent);
            return Rv(rv);
        }
    }

    /// <summary>Core list items come without apiVersion/kind from a real API server; so do ours.</summary>
    private static string WithoutTypeMeta(JsonObject obj)
    {
        var copy = (JsonObject)obj.DeepClone();
        copy.Remove("apiVersion");
        copy.Remove("kind");
        return copy.ToJsonString();
    }

    private static bool SameContent(string storedJson, JsonObject candidate)
    {
        var stored = (JsonObject)JsonNode.Parse(storedJson)!;
        var copy = (JsonObject)candidate.DeepClone();
        ((JsonObject)stored["metadata"]!).Remove("resourceVersion");
        ((JsonObject)copy["metadata"]!).Remove("resourceVersion");
        return JsonNode.DeepEquals(stored, copy);
    }

    private void Record(ResourceState state, long rv, string ns, string line, bool recordEvent)
    {
        if (!recordEvent)
        {
            return;
        }

        state.History.Add(new HistoryEvent(rv, ns, line));
        var due = _time.GetUtcNow() + WatchEventDelay;
        foreach (var watcher in state.Watchers)
        {
            if (watcher.Namespace is null || watcher.Namespace == ns)
            {
                if (watcher.Stalled)
                {
                    state.Withheld++;
                }
                else
                {
                    watcher.Lines.Writer.TryWrite(new Line(line, due));
                }
            }
        }
    }

    private async Task BookmarkLoopAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await Task.Delay(BookmarkInterval == Timeout.InfiniteTimeSpan ? TimeSpan.FromMilliseconds(100) : BookmarkInterval, _time, _stopping.Token);
                if (BookmarkInterval == Timeout.InfiniteTimeSpan)
                {
                    continue;
                }

                lock (_lock)
                {
                    foreach (var (plural, state) in _resources)
                    {
                        var kind = Kinds[plural];
                        var line = $"{{\"type\":\"BOOKMARK\",\"object\":{{\"kind\":\"{kind.Name}\",\"apiVersion\":\"{kind.ApiVersion}\",\"metadata\":{{\"resourceVersion\":\"{Rv(_resourceVersion)}\"}}}}}}";
                        foreach (var watcher in state.Watchers.Where(w => w.Bookmarks && !w.Stalled))
                        {
                            watcher.Lines.Writer.TryWrite(new Line(line, DateTimeOffset.MinValue));
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        LastAuthorization = context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null;
        var segments = context.Request.Path.Value!.Trim('/').Split('/');
        if (segments is ["apis", "coordination.k8s.io", ..])
        {
            Interlocked.Increment(ref _leaseRequests);
        }

        switch (segments)
        {
            case ["apis", IstioGroup]:
                Interlocked.Increment(ref _istioDiscoveries);
                await DiscoveryAsync(context);
                return;
            case ["api", "v1", var plural] when Kinds.ContainsKey(plural):
                await CollectionAsync(context, plural, null);
                return;
            case ["api", "v1", "namespaces", var ns, "events"] when HttpMethods.IsPost(context.Request.Method):
                await CreateEventAsync(context, ns);
                return;
            case ["api", "v1", "namespaces", var name]:
                await GetAsync(context, "namespaces", "", name);
                return;
            case ["api", "v1", "namespaces", var ns, var plural] when Kinds.ContainsKey(plural):
                await CollectionAsync(context, plural, ns);
                return;
            case ["api", "v1", "namespaces", var ns, var plural, var name] when Kinds.ContainsKey(plural):
                await GetAsync(context, plural, ns, name);
                return;
            case ["apis", IstioGroup, var version, var plural] when IstioVersions.Contains(version) && Kinds.ContainsKey(plural):
                await CollectionAsync(context, plural, null);
                return;
            case ["apis", IstioGroup, var version, "namespaces", var ns, var plural] when IstioVersions.Contains(version) && Kinds.ContainsKey(plural):
                await CollectionAsync(context, plural, ns);
                return;
            case ["apis", IstioGroup, var version, "namespaces", var ns, var plural, var name] when IstioVersions.Contains(version) && Kinds.ContainsKey(plural):
                if (HttpMethods.IsPatch(context.Request.Method))
                {
                    await ApplyAsync(context, plural, version, ns, name);
                }
                else if (HttpMethods.IsDelete(context.Request.Method))
                {
                    await DeleteAsync(context, plural, ns, name);
                }
                else
                {
                    await GetAsync(context, plural, ns, name);
                }

                return;
            case ["apis", _] or ["apis", _, _] when FailOptionalDiscovery && segments[1] != IstioGroup:
                Interlocked.Increment(ref _failedDiscoveries);
                await StatusAsync(context, HttpStatusCode.InternalServerError, "InternalError", "Internal error occurred: discovery failed");
                return;
            case ["apis", var group] when Serves(group):
                await GroupDiscoveryAsync(context, group, null);
                return;
            case ["apis", var group, var version] when Serves(group):
                await GroupDiscoveryAsync(context, group, version);
                return;
            case ["apis", var group, var version, var plural] when Serves(group) && KeyOf(group, plural, version) is { } key:
                await CollectionAsync(context, key, null, version);
                return;
            case ["apis", var group, var version, "namespaces", var ns, var plural] when Serves(group) && KeyOf(group, plural, version) is { } key && Kinds[key].Namespaced:
                await CollectionAsync(context, key, ns, version);
                return;
            case ["apis", var group, var version, "namespaces", var ns, var plural, var name] when Serves(group) && KeyOf(group, plural, version) is { } key && Kinds[key].Namespaced:
                await ItemAsync(context, key, version, ns, name);
                return;
            case ["apis", var group, var version, var plural, var name] when Serves(group) && KeyOf(group, plural, version) is { } key && !Kinds[key].Namespaced:
                await ItemAsync(context, key, version, "", name);
                return;
            case ["apis", "coordination.k8s.io", ..] when AbortLeaseRequests:
                context.Abort();
                return;
            case ["apis", "coordination.k8s.io", ..] when ForbidLeases:
                await StatusAsync(context, HttpStatusCode.Forbidden, "Forbidden",
                    "leases.coordination.k8s.io is forbidden: User \"system:serviceaccount:egress-webhook:egress-webhook\" cannot get resource \"leases\"");
                return;
            case ["apis", "coordination.k8s.io", "v1", "namespaces", var ns, "leases"] when HttpMethods.IsPost(context.Request.Method):
                await CreateLeaseAsync(context, ns);
                return;
            case ["apis", "coordination.k8s.io", "v1", "namespaces", var ns, "leases", var name]:
                await LeaseAsync(context, ns, name);
                return;
            default:
                await StatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"the server could not find the requested resource ({context.Request.Path})");
                return;
        }
    }

    /// <summary>PATCH (server-side apply), DELETE or GET of one object.</summary>
    private Task ItemAsync(HttpContext context, string plural, string version, string ns, string name) =>
        HttpMethods.IsPatch(context.Request.Method) ? ApplyAsync(context, plural, version, ns, name)
        : HttpMethods.IsDelete(context.Request.Method) ? DeleteAsync(context, plural, ns, name)
        : GetAsync(context, plural, ns, name);

    /// <summary>Whether an optional group (the Gateway API, security.istio.io, the wg-policy reports, the EgressPolicy CRD) is served.</summary>
    private bool Serves(string group) => group switch
    {
        GatewayApiGroup => ServeGatewayApi,
        SecurityGroup => ServeSecurityApi,
        PolicyReportGroup => ServePolicyReports,
        PolicyGroup => ServeEgressPolicies,
        _ => false,
    };

    /// <summary>The state key of <paramref name="plural"/> in <paramref name="group"/> at <paramref name="version"/>, or null when not served.</summary>
    private string? KeyOf(string group, string plural, string version) =>
        Kinds.Values.FirstOrDefault(k => k.Group == group && k.Plural == plural && VersionsOf(k).Contains(version))?.Key;

    /// <summary>The state key of <paramref name="plural"/> in an optional <paramref name="group"/> at any version.</summary>
    private static string? KeyOf(string group, string plural) =>
        Kinds.Values.FirstOrDefault(k => k.Group == group && k.Plural == plural)?.Key;

    /// <summary>The kind of a written object: its <c>kind</c>, and the group of its <c>apiVersion</c> where two groups share a kind name.</summary>
    private static Kind KindOf(JsonObject obj)
    {
        var kindName = obj["kind"]?.GetValue<string>() ?? throw new ArgumentException("object without kind");
        var candidates = Kinds.Values.Where(k => k.Name == kindName).ToList();
        if (candidates.Count <= 1)
        {
            return candidates.Single();
        }

        var apiVersion = obj["apiVersion"]?.GetValue<string>() ?? "";
        var group = apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : "";
        return candidates.Single(k => (k.Group ?? (k.Istio ? IstioGroup : "")) == group);
    }

    /// <summary>An optional group (<paramref name="version"/> null) or one of its versions' resource lists.</summary>
    private async Task GroupDiscoveryAsync(HttpContext context, string group, string? version)
    {
        var kinds = Kinds.Values.Where(k => k.Group == group).ToList();
        if (version is null)
        {
            var versions = string.Join(",", kinds.SelectMany(VersionsOf).Distinct().Select(v => $"{{\"groupVersion\":\"{group}/{v}\",\"version\":\"{v}\"}}"));
            await WriteAsync(context, HttpStatusCode.OK, $"{{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"{group}\",\"versions\":[{versions}]}}");
            return;
        }

        var scope = (Kind k) => k.Namespaced ? "true" : "false";
        var resources = kinds.Where(k => VersionsOf(k).Contains(version))
            .SelectMany(k => new[] { $"{{\"name\":\"{k.Plural}\",\"kind\":\"{k.Name}\",\"namespaced\":{scope(k)}}}", $"{{\"name\":\"{k.Plural}/status\",\"kind\":\"{k.Name}\",\"namespaced\":{scope(k)}}}" })
            .ToList();
        if (resources.Count == 0)
        {
            await StatusAsync(context, HttpStatusCode.NotFound, "NotFound", "the server could not find the requested resource");
            return;
        }

        await WriteAsync(context, HttpStatusCode.OK, $"{{\"kind\":\"APIResourceList\",\"groupVersion\":\"{group}/{version}\",\"resources\":[{string.Join(",", resources)}]}}");
    }

    private async Task DiscoveryAsync(HttpContext context)
    {
        if (IstioVersions.Count == 0)
        {
            await StatusAsync(context, HttpStatusCode.NotFound, "NotFound", "the server could not find the requested resource");
            return;
        }

        var versions = string.Join(",", IstioVersions.Select(v => $"{{\"groupVersion\":\"{IstioGroup}/{v}\",\"version\":\"{v}\"}}"));
        await WriteAsync(context, HttpStatusCode.OK,
            $"{{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"{IstioGroup}\",\"versions\":[{versions}],\"preferredVersion\":{{\"groupVersion\":\"{IstioGroup}/{IstioVersions[0]}\",\"version\":\"{IstioVersions[0]}\"}}}}");
    }

    private Task CollectionAsync(HttpContext context, string plural, string? ns, string? version = null)
    {
        bool refused;
        lock (_lock)
        {
            refused = _refusedReads.Contains(plural) || (version is not null && _refusedReads.Contains($"{plural}@{version}"));
            if (refused)
            {
                _resources[plural].Refused++;
            }
        }

        return refused ? StatusAsync(context, HttpStatusCode.InternalServerError, "InternalError", $"reading {plural} failed")
            : context.Request.Query["watch"] is { Count: > 0 } w && w[0] is "1" or "true" ? WatchAsync(context, plural, ns)
            : ListAsync(context, plural, ns);
    }

    private async Task ListAsync(HttpContext context, string plural, string? ns)
    {
        var kind = Kinds[plural];
        if (ListDelay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(ListDelay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var limit = int.TryParse(context.Request.Query["limit"], out var l) && l > 0 ? l : int.MaxValue;
        Page page;
        lock (_lock)
        {
            var token = context.Request.Query["continue"].ToString();
            if (token.Length > 0)
            {
                if (!_continuations.Remove(token, out page!))
                {
                    page = null!;
                }
            }
            else
            {
                var state = _resources[plural];
                state.Lists++;
                state.ListScopes.Add(ns);
                var items = state.Items.Values
                    .Where(i => ns is null || i.Namespace == ns)
                    .Select(i => i.Bare)
                    .ToArray();
                page = new Page(items, 0, Rv(_resourceVersion));
            }
        }

        if (page is null)
        {
            await StatusAsync(context, HttpStatusCode.Gone, "Expired", "the provided continue parameter is too old");
            return;
        }

        var count = Math.Min(limit, page.Items.Length - page.Offset);
        string? next = null;
        if (page.Offset + count < page.Items.Length)
        {
            next = Guid.NewGuid().ToString("N");
            lock (_lock)
            {
                _continuations[next] = page with { Offset = page.Offset + count };
            }
        }

        var body = new StringBuilder();
        body.Append(CultureInfo.InvariantCulture, $"{{\"apiVersion\":\"{kind.ApiVersion}\",\"kind\":\"{kind.Name}List\",\"metadata\":{{\"resourceVersion\":\"{page.ResourceVersion}\"");
        if (next is not null)
        {
            // as the API server does for a paginated list without selectors
            body.Append(CultureInfo.InvariantCulture, $",\"continue\":\"{next}\",\"remainingItemCount\":{page.Items.Length - (page.Offset + count)}");
        }

        body.Append("},\"items\":[");
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                body.Append(',');
            }

            body.Append(page.Items[page.Offset + i]);
        }

        body.Append("]}");
        await WriteAsync(context, HttpStatusCode.OK, body.ToString());
    }

    private async Task WatchAsync(HttpContext context, string plural, string? ns)
    {
        var query = context.Request.Query;
        var from = query["resourceVersion"].ToString();
        var timeout = int.TryParse(query["timeoutSeconds"], out var t) && t > 0 ? TimeSpan.FromSeconds(t) : TimeSpan.FromMinutes(30);
        var watcher = new Watcher(context, ns, query["allowWatchBookmarks"] == "true");
        var replay = new List<string>();
        long gone = 0;
        bool closeAtOnce;
        lock (_lock)
        {
            closeAtOnce = _closedAtOnce.Contains(plural);
        }

        if (closeAtOnce)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync();
            return;
        }

        lock (_lock)
        {
            var state = _resources[plural];
            state.WatchStarts.Add(from);
            if (from.Length > 0 && from != "0" && long.Parse(from, CultureInfo.InvariantCulture) < state.CompactedRv)
            {
                gone = state.CompactedRv;
            }
            else
            {
                if (from.Length == 0 || from == "0")
                {
                    replay.AddRange(state.Items.Values.Where(i => ns is null || i.Namespace == ns).Select(i => $"{{\"type\":\"ADDED\",\"object\":{i.Full}}}"));
                }
                else
                {
                    var since = long.Parse(from, CultureInfo.InvariantCulture);
                    replay.AddRange(state.History.Where(h => h.Rv > since && (ns is null || h.Namespace == ns)).Select(h => h.Line));
                }

                watcher.Stalled = StallNewWatches;
                if (watcher.Stalled)
                {
                    state.Withheld += replay.Count;
                }

                state.Watchers.Add(watcher);
            }
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        if (gone != 0)
        {
            // the API server accepts the watch and then reports the expired resourceVersion as an ERROR event
            await context.Response.WriteAsync(GoneLine(gone) + "\n");
            return;
        }

        try
        {
            await context.Response.StartAsync();
            await context.Response.Body.FlushAsync();
            if (!watcher.Stalled)
            {
                foreach (var line in replay)
                {
                    await context.Response.WriteAsync(line + "\n");
                }

                await context.Response.Body.FlushAsync();
            }

            using var closed = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            using var expiry = new CancellationTokenSource(timeout, _time);
            using var end = CancellationTokenSource.CreateLinkedTokenSource(closed.Token, expiry.Token);
            try
            {
                await foreach (var line in watcher.Lines.Reader.ReadAllAsync(end.Token))
                {
                    if (line.Due - _time.GetUtcNow() is { Ticks: > 0 } wait)
                    {
                        // events reach watches a moment after the write; one delay for all keeps them in order
                        await Task.Delay(wait, _time, end.Token);
                    }

                    await context.Response.WriteAsync(line.Text + "\n", end.Token);
                    await context.Response.Body.FlushAsync(end.Token);
                }
            }
            catch (OperationCanceledException) when (expiry.IsCancellationRequested && watcher.Stalled && !closed.IsCancellationRequested)
            {
                // a dead connection: the client never sees the server end the watch
                await Task.Delay(Timeout.InfiniteTimeSpan, closed.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            // timeout, client gone, or aborted by DropWatches
        }
        finally
        {
            lock (_lock)
            {
                _resources[plural].Watchers.Remove(watcher);
            }
        }
    }

    private async Task GetAsync(HttpContext context, string plural, string ns, string name)
    {
        Item? item;
        lock (_lock)
        {
            var state = _resources[plural];
            state.Gets++;
            state.Items.TryGetValue(Key(Kinds[plural], ns, name), out item);
        }

        if (item is null)
        {
            // as kube-apiserver answers a get of a missing object: a Status naming the group-qualified resource
            var kind = Kinds[plural];
            var group = kind.Group ?? (kind.Istio ? IstioGroup : "");
            var resource = group.Length == 0 ? kind.Plural : $"{kind.Plural}.{group}";
            await WriteAsync(context, HttpStatusCode.NotFound, JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new Dictionary<string, object>(),
                ["status"] = "Failure",
                ["message"] = $"{resource} \"{name}\" not found",
                ["reason"] = "NotFound",
                ["details"] = new Dictionary<string, object> { ["name"] = name, ["group"] = group, ["kind"] = kind.Plural },
                ["code"] = 404,
            }));
            return;
        }

        await WriteAsync(context, HttpStatusCode.OK, item.Full);
    }

    /// <summary>Server-side apply (PATCH, application/apply-patch+yaml): stores the applied object as this manager's
    /// (the fake keeps no other managers' fields), creating it when missing; an apply that changes nothing is a no-op.</summary>
    private async Task ApplyAsync(HttpContext context, string plural, string version, string ns, string name)
    {
        var kind = Kinds[plural];
        var contentType = context.Request.ContentType ?? "";
        var fieldManager = context.Request.Query["fieldManager"].ToString();
        var force = context.Request.Query["force"].ToString();
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        HttpStatusCode? failure;
        lock (_lock)
        {
            _writes.Add(new WriteRecord(plural, "apply", ns, name, fieldManager, contentType, force == "true"));
            failure = _writeFailures.Count > 0 ? _writeFailures.Dequeue() : null;
        }

        if (failure is { } code)
        {
            await StatusAsync(context, code, code == HttpStatusCode.UnprocessableEntity ? "Invalid" : "InternalError", $"injected failure {(int)code}");
            return;
        }

        if (!contentType.StartsWith("application/apply-patch+yaml", StringComparison.Ordinal))
        {
            await StatusAsync(context, HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType", $"the body of the request was in an unknown format: {contentType}");
            return;
        }

        if (fieldManager.Length == 0)
        {
            await StatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
            return;
        }

        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException ex)
        {
            await StatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", $"error decoding YAML: {ex.Message}");
            return;
        }

        var meta = obj["metadata"] as JsonObject;
        if (obj["apiVersion"]?.GetValue<string>() != $"{kind.Group ?? IstioGroup}/{version}" || obj["kind"]?.GetValue<string>() != kind.Name ||
            meta?["name"]?.GetValue<string>() != name || (meta["namespace"]?.GetValue<string>() ?? ns) != ns)
        {
            await StatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", "the apiVersion, kind, name or namespace of the body does not match the request");
            return;
        }

        if (kind.Namespaced)
        {
            meta["namespace"] = ns;
        }

        // the webhooks are registered for the Istio kinds only
        if (kind.Istio && Admission is { } chain)
        {
            var stored = Get(plural, ns, name);
            meta["uid"] = stored?["metadata"]?["uid"]?.DeepClone() ?? Guid.NewGuid().ToString();
            var verdict = await chain.AdmitAsync(stored is null ? "CREATE" : "UPDATE", obj, stored);
            if (!verdict.Allowed)
            {
                await StatusAsync(context, (HttpStatusCode)verdict.Write.Code, verdict.Write.Code == 422 ? "Invalid" : "Forbidden", verdict.Write.Message ?? "refused");
                return;
            }

            obj = verdict.Object!;
        }

        Upsert(obj, recordEvent: true, fieldManager, keepUid: true);
        await WriteAsync(context, HttpStatusCode.OK, Get(plural, ns, name)!.ToJsonString());
    }

    private async Task CreateEventAsync(HttpContext context, string ns)
    {
        var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted)) as JsonObject;
        if (body?["involvedObject"] is not JsonObject || body["reason"] is null)
        {
            await StatusAsync(context, HttpStatusCode.UnprocessableEntity, "Invalid", "Event is invalid: involvedObject and reason are required");
            return;
        }

        var meta = body["metadata"] as JsonObject ?? new JsonObject();
        body["metadata"] = meta;
        lock (_lock)
        {
            meta["namespace"] = ns;
            meta["name"] ??= $"{meta["generateName"]?.GetValue<string>() ?? "event."}{++_resourceVersion:x}";
            meta["uid"] = Guid.NewGuid().ToString();
            _events.Add(body);
        }

        await WriteAsync(context, HttpStatusCode.Created, body.ToJsonString());
    }

    /// <summary>DELETE with optional DeleteOptions preconditions (uid, resourceVersion): 409 when they do not hold.</summary>
    private async Task DeleteAsync(HttpContext context, string plural, string ns, string name)
    {
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted);
        HttpStatusCode? failure;
        lock (_lock)
        {
            _writes.Add(new WriteRecord(plural, "delete", ns, name, null, context.Request.ContentType, false));
            failure = _writeFailures.Count > 0 ? _writeFailures.Dequeue() : null;
        }

        if (failure is { } code)
        {
            await StatusAsync(context, code, "InternalError", $"injected failure {(int)code}");
            return;
        }

        var preconditions = body.Length > 0 ? JsonNode.Parse(body)?["preconditions"] : null;
        var stored = Get(plural, ns, name);
        if (stored is null)
        {
            await StatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"{plural} \"{name}\" not found");
            return;
        }

        if (Kinds[plural].Istio && Admission is { } chain && await chain.AdmitAsync("DELETE", null, stored) is { Allowed: false } refused)
        {
            await StatusAsync(context, (HttpStatusCode)refused.Write.Code, "Forbidden", refused.Write.Message ?? "refused");
            return;
        }

        foreach (var field in new[] { "uid", "resourceVersion" })
        {
            if (preconditions?[field]?.GetValue<string>() is { } expected && stored["metadata"]?[field]?.GetValue<string>() != expected)
            {
                await StatusAsync(context, HttpStatusCode.Conflict, "Conflict", $"Precondition failed: {field}: {expected}");
                return;
            }
        }

        Delete(plural, ns, name);
        await WriteAsync(context, HttpStatusCode.OK, stored.ToJsonString());
    }

    private async Task CreateLeaseAsync(HttpContext context, string ns)
    {
        var lease = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted)) as JsonObject;
        var name = lease?["metadata"]?["name"]?.GetValue<string>();
        if (lease is null || name is null)
        {
            await StatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", "a Lease with a name is required");
            return;
        }

        string stored;
        lock (_lock)
        {
            if (_leases.ContainsKey($"{ns}/{name}"))
            {
                stored = "";
            }
            else
            {
                stored = StoreLease(ns, name, lease, null).ToJsonString();
            }
        }

        if (stored.Length == 0)
        {
            await StatusAsync(context, HttpStatusCode.Conflict, "AlreadyExists", $"leases.coordination.k8s.io \"{name}\" already exists");
            return;
        }

        await WriteAsync(context, HttpStatusCode.Created, stored);
    }

    private async Task LeaseAsync(HttpContext context, string ns, string name)
    {
        if (HttpMethods.IsGet(context.Request.Method))
        {
            string? json;
            lock (_lock)
            {
                json = _leases.TryGetValue($"{ns}/{name}", out var lease) ? lease.ToJsonString() : null;
            }

            if (json is null)
            {
                await StatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"leases.coordination.k8s.io \"{name}\" not found");
            }
            else
            {
                await WriteAsync(context, HttpStatusCode.OK, json);
            }

            return;
        }

        if (!HttpMethods.IsPut(context.Request.Method))
        {
            await StatusAsync(context, HttpStatusCode.MethodNotAllowed, "MethodNotAllowed", $"{context.Request.Method} is not supported on leases here");
            return;
        }

        var replacement = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted)) as JsonObject;
        HttpStatusCode status;
        string answer;
        lock (_lock)
        {
            if (replacement is null)
            {
                (status, answer) = (HttpStatusCode.BadRequest, "a Lease is required");
            }
            else if (!_leases.TryGetValue($"{ns}/{name}", out var old))
            {
                (status, answer) = (HttpStatusCode.NotFound, $"leases.coordination.k8s.io \"{name}\" not found");
            }
            else if (replacement["metadata"]?["resourceVersion"]?.GetValue<string>() is { Length: > 0 } rv && rv != old["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                (status, answer) = (HttpStatusCode.Conflict, $"Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
            }
            else
            {
                (status, answer) = (HttpStatusCode.OK, StoreLease(ns, name, replacement, old).ToJsonString());
            }
        }

        if (status == HttpStatusCode.OK)
        {
            await WriteAsync(context, status, answer);
        }
        else
        {
            await StatusAsync(context, status, status == HttpStatusCode.Conflict ? "Conflict" : "Invalid", answer);
        }
    }

    /// <summary>Stores a Lease with a new resourceVersion (and the old uid); call under the lock.</summary>
    private JsonObject StoreLease(string ns, string name, JsonObject lease, JsonObject? old)
    {
        var copy = (JsonObject)lease.DeepClone();
        copy["apiVersion"] = "coordination.k8s.io/v1";
        copy["kind"] = "Lease";
        var meta = copy["metadata"] as JsonObject ?? new JsonObject();
        copy["metadata"] = meta;
        meta["name"] = name;
        meta["namespace"] = ns;
        meta["uid"] = old?["metadata"]?["uid"]?.GetValue<string>() ?? Guid.NewGuid().ToString();
        meta["resourceVersion"] = Rv(++_resourceVersion);
        _leases[$"{ns}/{name}"] = copy;
        return copy;
    }

    private static string GoneLine(long rv) =>
        $"{{\"type\":\"ERROR\",\"object\":{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{{}},\"status\":\"Failure\",\"message\":\"too old resource version (compacted at {rv})\",\"reason\":\"Expired\",\"code\":410}}}}";

    private static Task StatusAsync(HttpContext context, HttpStatusCode code, string reason, string message) =>
        WriteAsync(context, code, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = (int)code,
        }));

    private static async Task WriteAsync(HttpContext context, HttpStatusCode code, string body)
    {
        context.Response.StatusCode = (int)code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body);
    }

    private static string Key(Kind kind, string ns, string name) => kind.Namespaced ? $"{ns}/{name}" : name;

    private static string Rv(long rv) => rv.ToString(CultureInfo.InvariantCulture);

    /// <summary>One write request as received (before any injected failure).</summary>
    internal sealed record WriteRecord(string Plural, string Verb, string Namespace, string Name, string? FieldManager, string? ContentType, bool Force);

    // Group/Version: another API group (the Gateway API) and the version it is served at; null for Istio and core.
    private sealed record Kind(string Name, string Plural, bool Istio, bool Namespaced, string? Group = null, string? Version = null)
    {
        /// <summary>The key of its state: the plural, qualified by the group where two groups share it (gateways).</summary>
        public string Key => Group == GatewayApiGroup && Plural == "gateways" ? $"{Plural}.{Group}" : Plural;

        public string ApiVersion => Group is not null ? $"{Group}/{Version}" : Istio ? $"{IstioGroup}/v1" : "v1";
    }

    private sealed record Item(string Namespace, string Full, string Bare);

    /// <summary>One line of a watch stream, not to be sent before <paramref name="Due"/>.</summary>
    private sealed record Line(string Text, DateTimeOffset Due);

    private sealed record HistoryEvent(long Rv, string Namespace, string Line);

    private sealed record Page(string[] Items, int Offset, string ResourceVersion);

    private sealed class ResourceState
    {
        /// <summary>By key, in key order: as etcd keeps them, so that a list is not sorted per request.</summary>
        public SortedDictionary<string, Item> Items { get; } = new(StringComparer.Ordinal);

        public List<HistoryEvent> History { get; } = [];

        public List<Watcher> Watchers { get; } = [];

        public List<string> WatchStarts { get; } = [];

        public long CompactedRv { get; set; }

        public int Lists { get; set; }

        public List<string?> ListScopes { get; } = [];

        public int Gets { get; set; }

        public int Refused { get; set; }

        public int Withheld { get; set; }
    }

    private sealed class Watcher(HttpContext context, string? ns, bool bookmarks)
    {
        public HttpContext Context { get; } = context;

        public string? Namespace { get; } = ns;

        public bool Bookmarks { get; } = bookmarks;

        public bool Stalled { get; set; }

        public Channel<Line> Lines { get; } = Channel.CreateUnbounded<Line>();
    }
}

/// <summary>One write as the fake API server's admission chain answered it (kubectl prints the same).</summary>
/// <param name="Operation">CREATE, UPDATE or DELETE.</param>
/// <param name="Kind">The object's kind.</param>
/// <param name="Namespace">Its namespace ("" for cluster-scoped kinds).</param>
/// <param name="Name">Its name.</param>
/// <param name="Allowed">Whether it was stored.</param>
/// <param name="Code">200 when stored, else the refusal's code (403 from a webhook, 422 from the schema).</param>
/// <param name="Message">The refusal as kubectl prints it after <c>Error from server</c>.</param>
/// <param name="Warnings">The webhooks' warnings (kubectl prints them as <c>Warning: …</c>).</param>
internal sealed record AdmittedWrite(string Operation, string Kind, string Namespace, string Name, bool Allowed, int Code, string? Message,
    IReadOnlyList<string> Warnings)
{
    public override string ToString() => $"{Operation} {Kind} {Namespace}/{Name}: {(Allowed ? "ok" : Message)}{(Warnings.Count > 0 ? " [" + string.Join(" | ", Warnings) + "]" : "")}";
}

/// <summary>The outcome of the chain for one write: the object to store (mutated), or the refusal.</summary>
internal sealed record AdmissionVerdict(AdmittedWrite Write, JsonObject? Object)
{
    public bool Allowed => Write.Allowed;
}

/// <summary>What the fake API server calls on every write, as an API server calls its admission chain (the tests'
/// <c>FakeAdmissionChain</c> runs the project's webhooks).</summary>
internal interface IAdmissionChain
{
    /// <summary>Admits one write: the object to store (mutated), or the refusal.</summary>
    Task<AdmissionVerdict> AdmitAsync(string operation, JsonObject? obj, JsonObject? old);
}
