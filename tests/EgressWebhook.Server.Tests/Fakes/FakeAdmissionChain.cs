using System.Text;
using System.Text.Json.Nodes;
using EgressWebhook.Core.Tests.Mutation;
using EgressWebhook.Server.Tests.Infrastructure;

namespace EgressWebhook.Server.Tests.Fakes;

/// <summary>The API server's admission chain for the fake: the project's mutating webhook (its JSON Patch applied), then
/// the object's schema (when a validator is given), then the project's validating webhook, each called over HTTPS with
/// an <c>admission.k8s.io/v1</c> AdmissionReview as the API server sends it. Every write is recorded.</summary>
internal sealed class FakeAdmissionChain(WebhookServer webhook, Func<JsonObject, string?>? schema = null) : IAdmissionChain
{
    /// <summary>The schema step of a cluster with Istio 1.24's CRDs installed: Istio objects are checked against their
    /// CRD (OpenAPI schema, unknown fields, CEL rules); other kinds pass (their schemas are built in).</summary>
    public static Func<JsonObject, string?> IstioCrds { get; } = IstioCrdsOf("crd-all.istio-1.24.yaml");

    /// <summary>The schema step of a cluster with the CRDs of <paramref name="file"/> (<c>../shared/istio-crds</c>).</summary>
    public static Func<JsonObject, string?> IstioCrdsOf(string file) => obj =>
        obj["apiVersion"]?.GetValue<string>()?.StartsWith("networking.istio.io/", StringComparison.Ordinal) == true
            ? Cli.Tests.IstioCrdSchemas.Load(file).Validate(obj) is { Count: > 0 } errors ? string.Join("; ", errors) : null
            : null;

    private const string ValidatingWebhook = "validate.egress.istio.io";
    private readonly Lock _lock = new();
    private readonly List<AdmittedWrite> _writes = [];

    /// <summary>Every write the chain decided, in order.</summary>
    public IReadOnlyList<AdmittedWrite> Writes
    {
        get
        {
            lock (_lock)
            {
                return [.. _writes];
            }
        }
    }

    public async Task<AdmissionVerdict> AdmitAsync(string operation, JsonObject? obj, JsonObject? old)
    {
        var subject = obj ?? old!;
        var kind = subject["kind"]!.GetValue<string>();
        var ns = subject["metadata"]?["namespace"]?.GetValue<string>() ?? "";
        var name = subject["metadata"]!["name"]!.GetValue<string>();
        var warnings = new List<string>();
        var current = (JsonObject?)obj?.DeepClone();

        if (current is not null)
        {
            var mutated = await webhook.PostAsync(Reviews.Create(operation, current, old, requestNamespace: ns.Length == 0 ? null : ns), "/mutate");
            warnings.AddRange(mutated.Warnings);
            if (mutated.Response.TryGetProperty("patch", out var patch))
            {
                var ops = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(patch.GetString()!)))!.AsArray();
                current = (JsonObject)JsonPatchApplier.Apply(current, ops);
            }

            if (schema?.Invoke(current) is { } invalid)
            {
                return Record(new AdmittedWrite(operation, kind, ns, name, false, 422, $"{kind} \"{name}\" is invalid: {invalid}", warnings), null);
            }
        }

        var validated = await webhook.PostAsync(Reviews.Create(operation, current, old, requestNamespace: ns.Length == 0 ? null : ns));
        warnings.AddRange(validated.Warnings);
        if (!validated.Allowed)
        {
            var code = validated.StatusCode ?? 403;
            return Record(new AdmittedWrite(operation, kind, ns, name, false, code,
                $"admission webhook \"{ValidatingWebhook}\" denied the request: {validated.StatusMessage}", warnings), null);
        }

        return Record(new AdmittedWrite(operation, kind, ns, name, true, 200, null, warnings), current);
    }

    private AdmissionVerdict Record(AdmittedWrite write, JsonObject? obj)
    {
        lock (_lock)
        {
            _writes.Add(write);
        }

        return new AdmissionVerdict(write, obj);
    }
}
