using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;

namespace EgressWebhook.Server.Cluster;

/// <summary>A non-2xx answer of the API server (or an ERROR watch event), with the Status message.</summary>
internal sealed class KubernetesApiException(HttpStatusCode statusCode, string message) : Exception(message)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    /// <summary>410: the resourceVersion (or continue token) is older than the server keeps; re-list.</summary>
    public bool IsGone => StatusCode == HttpStatusCode.Gone;
}

/// <summary>The watch outlived the client-side deadline (a little above the <c>timeoutSeconds</c> the server was asked
/// to end it at): the connection is presumed dead without having been closed (a stuck TCP connection).</summary>
internal sealed class WatchDeadlineException(TimeSpan after) : Exception($"watch not ended by the server {after.TotalSeconds:0.#}s after it started: connection presumed dead")
{
    public TimeSpan After { get; } = after;
}

/// <summary>A list page or the response headers of a watch did not arrive within the request timeout.</summary>
internal sealed class RequestTimedOutException(string what, TimeSpan after) : TimeoutException($"{what}: no answer within {after.TotalSeconds:0.#}s");

/// <summary>One line of a watch stream. <see cref="Object"/> is valid until the next event is read.</summary>
internal readonly record struct WatchEvent(string Type, JsonElement Object);

/// <summary>List, watch, get, server-side apply and delete on KubernetesClient's HTTP pipeline (its HttpClient, TLS setup and credentials,
/// including token refresh), reading the JSON bodies ourselves.</summary>
/// <remarks>KubernetesClient's generated operations do not fit an informer: with <c>watch=true</c> they block until
/// the first event line and hide the rest of the stream in an internal content type, and the typed core operations
/// deserialize into its model types. Here every list item and watch object stays raw JSON and goes through Core's one
/// decode path (<c>ObjectDecoder.Decode</c>).</remarks>
internal sealed class KubernetesApi(Kubernetes client, TimeProvider time)
{
    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    /// <summary>Reads the collection page by page; returns the list's resourceVersion. Items get the
    /// apiVersion/kind the API server leaves out of core list items, so they decode like admission objects.
    /// <paramref name="requestTimeout"/> bounds each page (the caller's token still applies); null = the caller's token only.</summary>
    public async Task<string> ListAsync(ClusterResource resource, int pageSize, Action<JsonElement> onItem, CancellationToken cancellationToken,
        TimeSpan? requestTimeout = null)
    {
        string? resourceVersion = null;
        string? continueToken = null;
        do
        {
            // No resourceVersion: a consistent read, never older than what a client just wrote.
            var query = $"?limit={pageSize}" + (continueToken is null ? "" : $"&continue={Uri.EscapeDataString(continueToken)}");
            using var page = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, page.Token);
            if (requestTimeout is { } limit)
            {
                page.CancelAfter(limit);
            }

            JsonDocument parsed;
            try
            {
                using var response = await SendAsync(resource.CollectionPath + query, linked.Token);
                await using var stream = await response.Content.ReadAsStreamAsync(linked.Token);
                parsed = await JsonDocument.ParseAsync(stream, cancellationToken: linked.Token);
            }
            catch (OperationCanceledException) when (page.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new RequestTimedOutException($"list of {resource.Plural}", requestTimeout!.Value);
            }

            using var doc = parsed;
            var root = doc.RootElement;
            if (root.TryGetProperty("metadata", out var meta))
            {
                resourceVersion ??= GetString(meta, "resourceVersion");
                continueToken = GetString(meta, "continue") is { Length: > 0 } c ? c : null;
            }
            else
            {
                continueToken = null;
            }

            if (root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in items.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    if (item.TryGetProperty("kind", out _) && item.TryGetProperty("apiVersion", out _))
                    {
                        onItem(item);
                    }
                    else
                    {
                        using var typed = WithTypeMeta(item, resource);
                        onItem(typed.RootElement);
                    }
                }
            }
        }
        while (continueToken is not null);

        return resourceVersion ?? throw new KubernetesApiException(HttpStatusCode.OK, $"list of {resource.Plural} has no resourceVersion");
    }

    /// <summary>Streams watch events from <paramref name="resourceVersion"/> with bookmarks, asking the server to end
    /// the watch after <paramref name="timeoutSeconds"/>. Ends when the server closes the stream. Silence is normal
    /// (a kind with no changes may get no bookmark for many minutes); only a stream still open at
    /// <paramref name="deadline"/> (a little above the timeout) is taken for a dead connection
    /// (<see cref="WatchDeadlineException"/>). Calls <paramref name="onConnected"/> once the server accepted the watch;
    /// the response headers must come within <paramref name="connectTimeout"/>.</summary>
    public async IAsyncEnumerable<WatchEvent> WatchAsync(ClusterResource resource, string resourceVersion, int timeoutSeconds, TimeSpan deadline,
        TimeSpan connectTimeout, Action onConnected, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = $"?watch=1&allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(resourceVersion)}&timeoutSeconds={timeoutSeconds}";
        using var expiry = new CancellationTokenSource(deadline, time);
        using var connect = new CancellationTokenSource(connectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expiry.Token);
        HttpResponseMessage response;
        try
        {
            using var connecting = CancellationTokenSource.CreateLinkedTokenSource(linked.Token, connect.Token);
            response = await SendAsync(resource.CollectionPath + query, connecting.Token);
        }
        catch (OperationCanceledException) when ((expiry.IsCancellationRequested || connect.IsCancellationRequested) && !cancellationToken.IsCancellationRequested)
        {
            throw new RequestTimedOutException($"watch of {resource.Plural}", connectTimeout < deadline ? connectTimeout : deadline);
        }

        using (response)
        {
            onConnected();
            await using var stream = await response.Content.ReadAsStreamAsync(linked.Token);
            using var reader = new StreamReader(stream);
            while (true)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(linked.Token);
                }
                catch (OperationCanceledException) when (expiry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new WatchDeadlineException(deadline);
                }

                if (line is null)
                {
                    yield break;
                }

                if (line.Length == 0)
                {
                    continue;
                }

                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                var type = root.ValueKind == JsonValueKind.Object ? GetString(root, "type") : null;
                if (type is null || !root.TryGetProperty("object", out var obj) || obj.ValueKind != JsonValueKind.Object)
                {
                    throw new JsonException("watch event without type or object");
                }

                yield return new WatchEvent(type, obj);
            }
        }
    }

    /// <summary>How many objects the collection holds now, from a consistent list of one item: its items plus the
    /// <c>metadata.remainingItemCount</c> the API server adds to a paginated list; null when it does not say.</summary>
    public async Task<long?> CountAsync(ClusterResource resource, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(resource.CollectionPath + "?limit=1", cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        var root = doc.RootElement;
        var items = root.TryGetProperty("items", out var list) && list.ValueKind == JsonValueKind.Array ? list.GetArrayLength() : 0;
        if (!root.TryGetProperty("metadata", out var meta) || GetString(meta, "continue") is not { Length: > 0 })
        {
            return items;
        }

        return meta.TryGetProperty("remainingItemCount", out var remaining) && remaining.TryGetInt64(out var n) ? items + n : null;
    }

    /// <summary>One object by name; null when it does not exist.</summary>
    public async Task<JsonDocument?> GetAsync(ClusterResource resource, string ns, string name, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await SendAsync(resource.ItemPath(ns, name), cancellationToken);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var doc = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
            if (doc.RootElement.TryGetProperty("kind", out _) && doc.RootElement.TryGetProperty("apiVersion", out _))
            {
                return doc;
            }

            using (doc)
            {
                return WithTypeMeta(doc.RootElement, resource);
            }
        }
        catch (KubernetesApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The versions of <paramref name="group"/> the API server serves (discovery); empty when it serves none.</summary>
    public async Task<IReadOnlyList<string>> ServedVersionsAsync(string group, CancellationToken cancellationToken) =>
        [.. await DiscoveryNamesAsync($"apis/{group}", "versions", "version", cancellationToken)];

    /// <summary>The resource names (plurals, no subresources) served at <paramref name="group"/>/<paramref name="version"/>;
    /// empty when that group version is not served.</summary>
    public async Task<IReadOnlyCollection<string>> ServedResourcesAsync(string group, string version, CancellationToken cancellationToken) =>
        (await DiscoveryNamesAsync($"apis/{group}/{version}", "resources", "name", cancellationToken))
            .Where(n => !n.Contains('/', StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The <paramref name="field"/> of each object in the <paramref name="array"/> of a discovery document; empty on 404.</summary>
    private async Task<IEnumerable<string>> DiscoveryNamesAsync(string path, string array, string field, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await SendAsync(path, cancellationToken);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
            if (!doc.RootElement.TryGetProperty(array, out var items) || items.ValueKind != JsonValueKind.Array)
            {
                return [];
            }

            return items.EnumerateArray()
                .Select(v => v.ValueKind == JsonValueKind.Object ? GetString(v, field) : null)
                .OfType<string>()
                .ToArray();
        }
        catch (KubernetesApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }
    }

    /// <summary>Server-side apply: PATCH with <c>application/apply-patch+yaml</c> (JSON is YAML) as
    /// <paramref name="fieldManager"/>, forcing ownership of conflicting fields. Creates the object when it does not exist.</summary>
    public async Task ApplyAsync(ClusterResource resource, string ns, string name, string manifestJson, string fieldManager, CancellationToken cancellationToken)
    {
        var uri = resource.ItemPath(ns, name) + $"?fieldManager={Uri.EscapeDataString(fieldManager)}&force=true";
        using var content = new StringContent(manifestJson, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/apply-patch+yaml") { CharSet = "utf-8" };
        using var response = await SendAsync(HttpMethod.Patch, uri, content, cancellationToken);
    }

    /// <summary>Creates a core/v1 Event (POST <c>/api/v1/namespaces/{ns}/events</c>).</summary>
    public async Task CreateEventAsync(string ns, string eventJson, CancellationToken cancellationToken)
    {
        using var content = new StringContent(eventJson, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await SendAsync(HttpMethod.Post, $"api/v1/namespaces/{Uri.EscapeDataString(ns)}/events", content, cancellationToken);
    }

    /// <summary>Deletes one object, only if it still has <paramref name="uid"/> and <paramref name="resourceVersion"/>
    /// (preconditions: an object replaced or changed since it was read is not deleted; the server answers 409).
    /// Returns false when it does not exist (any more).</summary>
    public async Task<bool> DeleteAsync(ClusterResource resource, string ns, string name, string? uid, string? resourceVersion, CancellationToken cancellationToken)
    {
        var preconditions = new JsonObject();
        if (!string.IsNullOrEmpty(uid))
        {
            preconditions["uid"] = uid;
        }

        if (!string.IsNullOrEmpty(resourceVersion))
        {
            preconditions["resourceVersion"] = resourceVersion;
        }

        var body = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "DeleteOptions",
            ["propagationPolicy"] = "Background",
            ["preconditions"] = preconditions,
        };
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await SendAsync(HttpMethod.Delete, resource.ItemPath(ns, name), content, cancellationToken);
            return true;
        }
        catch (KubernetesApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    private Task<HttpResponseMessage> SendAsync(string relativeUri, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, relativeUri, null, cancellationToken);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string relativeUri, HttpContent? content, CancellationToken cancellationToken)
    {
        // HTTP/2 where TLS negotiates it (the watches then share one connection, as client-go's do), else HTTP/1.1
        using var request = new HttpRequestMessage(method, new Uri(client.BaseUri, relativeUri))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = content,
        };
        request.Headers.Accept.Add(Json);
        if (client.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken);
        }

        var response = await client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new KubernetesApiException(response.StatusCode, $"{(int)response.StatusCode} {StatusMessage(body) ?? response.ReasonPhrase} ({relativeUri.Split('?')[0]})");
        }
    }

    /// <summary>The <c>message</c> of a Kubernetes Status body, if the body is one.</summary>
    internal static string? StatusMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? GetString(doc.RootElement, "message") : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The object with <c>apiVersion</c> and <c>kind</c> of its resource in front of its own properties.</summary>
    private static JsonDocument WithTypeMeta(JsonElement item, ClusterResource resource)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("apiVersion", resource.ApiVersion);
            writer.WriteString("kind", resource.KindName);
            foreach (var property in item.EnumerateObject())
            {
                if (property.NameEquals("apiVersion") || property.NameEquals("kind"))
                {
                    continue;
                }

                property.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.WrittenMemory);
    }

    internal static string? GetString(JsonElement json, string name) =>
        json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
